"""Deny by default: every URL and API operation declares who may use it, and the layers hold."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from bastion.api import api

MARKERS = ("required_permission", "requires_authentication", "public")


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "api":
                continue
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_view_declares_its_access():
    undeclared = [route for route, view in _patterns(get_resolver()) if not any(hasattr(view, m) for m in MARKERS)]
    assert undeclared == [], f"views without @requires/@authenticated/@public: {undeclared}"


def test_every_api_operation_declares_its_access():
    undeclared = []
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                if not any(hasattr(operation.view_func, m) for m in MARKERS):
                    undeclared.append(f"{operation.methods} {path}")
    assert undeclared == []
