"""Response and resolution targets per severity, in clock hours (``4h``) or business days
(``3bd``, counted on the working calendar). Pure: read by settings at start-up.

The defaults are the security page's promises: critical 1-hour response and 24-hour resolution,
high 4-hour response and 3-business-day resolution. The page is silent on medium and low; the
defaults here (1 and 2 business days to respond, 10 and 20 to resolve) are ours, and
``BASTION_INCIDENT_TARGETS`` changes any of them.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Protocol

DEFAULT = "critical=1h/24h,high=4h/3bd,medium=1bd/10bd,low=2bd/20bd"
SEVERITY_NAMES = ("critical", "high", "medium", "low")
_TARGET = re.compile(r"^(\d{1,4})(h|bd)$")


class Calendar(Protocol):
    def due(self, received_at: datetime.datetime, business_days: int) -> datetime.datetime: ...


@dataclass(frozen=True)
class Target:
    amount: int
    unit: str  # "h" or "bd"

    def due(self, start: datetime.datetime, calendar: Calendar) -> datetime.datetime:
        if self.unit == "h":
            return start + datetime.timedelta(hours=self.amount)
        return calendar.due(start, self.amount)

    def __str__(self) -> str:
        return f"{self.amount} hour(s)" if self.unit == "h" else f"{self.amount} business day(s)"


@dataclass(frozen=True)
class SeverityTargets:
    response: Target
    resolution: Target


def parse(text: str) -> dict[str, SeverityTargets]:
    """``critical=1h/24h,high=4h/3bd,…``; every severity must be given. Raises ValueError."""
    found: dict[str, SeverityTargets] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        severity, _, pair = item.partition("=")
        response, _, resolution = pair.partition("/")
        matches = [_TARGET.match(response.strip()), _TARGET.match(resolution.strip())]
        if severity.strip() not in SEVERITY_NAMES or not all(matches) or any(int(m[1]) < 1 for m in matches if m):
            raise ValueError(f"{item!r} is not <severity>=<response>/<resolution> with targets like 4h or 3bd")
        found[severity.strip()] = SeverityTargets(*(Target(int(m[1]), m[2]) for m in matches if m))
    missing = [name for name in SEVERITY_NAMES if name not in found]
    if missing:
        raise ValueError(f"no targets for {', '.join(missing)}")
    return found
