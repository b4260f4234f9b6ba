"""Console views, one module per flow."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError


def flash_outcome(request, act: Callable[[], object], done: str) -> bool:
    """Run an action for a one-button form: flash ``done``, or each of the action's errors; whether it was done."""
    try:
        act()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return False
    messages.success(request, done)
    return True
