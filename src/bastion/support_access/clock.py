"""The clock of grants and requests: ``now`` is a module attribute so that tests move time."""

from django.utils import timezone


def now():
    return timezone.now()
