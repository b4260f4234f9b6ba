"""Console test setup."""

from __future__ import annotations

import pytest

ACCESS_DENIED = "bastion.console.middleware.AccessDeniedMiddleware"
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"


@pytest.fixture(autouse=True)
def access_denied_middleware(settings):
    """Until settings.MIDDLEWARE lists it, install the console's middleware where it belongs."""
    if ACCESS_DENIED not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(middleware.index(AUTHENTICATION) + 1, ACCESS_DENIED)
        settings.MIDDLEWARE = middleware
