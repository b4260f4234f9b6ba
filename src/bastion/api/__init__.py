"""The JSON API under /api/v1/ (django-ninja); OpenAPI at /api/v1/openapi.json."""

from bastion.api.app import api

__all__ = ["api"]
