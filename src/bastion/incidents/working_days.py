"""Business days: the calendar the promises of the security pages are counted in ("acknowledge
within 2 business days", "high: resolved within 3 business days").

A target of N business days ends at the last instant of the N-th working day *after* the day
something arrived, in the calendar's time zone: a report received on Friday evening with a
2-day target is due by the end of Tuesday (Monday and Tuesday), or of Wednesday when Monday is a
holiday. The day of arrival never counts, so the target does not depend on the hour it came in.
Working weekdays, holidays and the time zone are configuration (``BASTION_WORKING_DAYS``,
``BASTION_HOLIDAYS``, ``BASTION_BUSINESS_TIME_ZONE``). Hour-based targets (an incident's
1-hour response) are plain clock time and do not come here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class WorkingCalendar:
    weekdays: frozenset[int]  # 0 = Monday, as datetime.date.weekday()
    holidays: frozenset[datetime.date]
    time_zone: ZoneInfo

    def is_working_day(self, day: datetime.date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def due(self, received_at: datetime.datetime, business_days: int) -> datetime.datetime:
        """The last instant of the ``business_days``-th working day after the day of ``received_at``."""
        if business_days < 1:
            raise ValueError("a target is at least one business day")
        day = received_at.astimezone(self.time_zone).date()
        counted = 0
        while counted < business_days:
            day += datetime.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        next_midnight = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(),
                                                  tzinfo=self.time_zone)
        return next_midnight - datetime.timedelta(microseconds=1)

    def business_days_between(self, start: datetime.datetime, end: datetime.datetime) -> int:
        """Working days after ``start``'s day up to and including ``end``'s day (0 on the same day)."""
        first = start.astimezone(self.time_zone).date()
        last = end.astimezone(self.time_zone).date()
        return sum(1 for offset in range(1, (last - first).days + 1)
                   if self.is_working_day(first + datetime.timedelta(days=offset)))


def from_settings() -> WorkingCalendar:
    return WorkingCalendar(
        weekdays=frozenset(WEEKDAYS.index(day) for day in settings.BASTION_WORKING_DAYS),
        holidays=frozenset(settings.BASTION_HOLIDAYS),
        time_zone=ZoneInfo(settings.BASTION_BUSINESS_TIME_ZONE),
    )
