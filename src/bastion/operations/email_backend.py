"""The email backend Django uses: the configured one (``BASTION_EMAIL_DELIVERY_BACKEND``: SMTP or
another), with every message it fails to send counted in ``bastion_email_send_failures_total``.

Django has no signal for a failed send, and emails leave from many places (allauth, alerts,
invitations), so the count is taken where they all pass.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

from bastion.operations.metrics import EMAIL_FAILURES


def delivery_backend() -> str:
    """The backend that really delivers: the one behind this metered one (or another set in its place)."""
    if settings.EMAIL_BACKEND == f"{__name__}.MeteredEmailBackend":
        return settings.BASTION_EMAIL_DELIVERY_BACKEND
    return settings.EMAIL_BACKEND


class MeteredEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self.delivery = get_connection(settings.BASTION_EMAIL_DELIVERY_BACKEND, fail_silently=fail_silently, **kwargs)

    def open(self):
        return self.delivery.open()

    def close(self):
        return self.delivery.close()

    def send_messages(self, email_messages):
        messages = list(email_messages)
        try:
            sent = self.delivery.send_messages(messages)
        except Exception:
            EMAIL_FAILURES.inc(len(messages))
            raise
        if len(messages) > (sent or 0):
            EMAIL_FAILURES.inc(len(messages) - (sent or 0))
        return sent
