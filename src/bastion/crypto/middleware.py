"""Each request starts with no customer-key refusal noted (``customer_kms.unavailable_in``)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from bastion.crypto import customer_kms


class CustomerKeyRefusalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        customer_kms.forget_refusal()
        return self.get_response(request)
