"""``{% if access|can:"records.edit" %}``: permission checks in templates (the server checks again)."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def can(access, permission: str) -> bool:
    """The permission on the resource of this page (project, else workspace, else organisation)."""
    return access is not None and access.can(permission)


@register.filter
def org_can(access, permission: str) -> bool:
    """The permission on the organisation as a whole, for organisation-wide navigation."""
    return access is not None and permission in access.permissions_for()


@register.filter
def number(value) -> str:
    """A Decimal without trailing zeros or exponent, with thousands separators: 5400.000 → 5,400."""
    if value is None or value == "":
        return ""
    return f"{Decimal(str(value)).normalize():,f}"
