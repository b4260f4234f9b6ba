"""Business-day targets on a working calendar: weekends and holidays do not count, the day of
arrival never counts, and the deadline is the last instant of the N-th working day."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from bastion.incidents import working_days

LONDON = ZoneInfo("Europe/London")
FRIDAY_EVENING = datetime.datetime(2026, 12, 4, 19, 30, tzinfo=LONDON)  # a Friday
WEEKDAYS = frozenset(range(5))


def calendar(*holidays: datetime.date) -> working_days.WorkingCalendar:
    return working_days.WorkingCalendar(WEEKDAYS, frozenset(holidays), LONDON)


def test_a_friday_evening_report_is_due_at_the_end_of_tuesday():
    due = calendar().due(FRIDAY_EVENING, 2)
    assert due == datetime.datetime(2026, 12, 8, 23, 59, 59, 999999, tzinfo=LONDON)
    assert due.strftime("%A %H:%M") == "Tuesday 23:59"


def test_a_holiday_moves_the_deadline_by_a_working_day():
    monday = datetime.date(2026, 12, 7)
    assert calendar(monday).due(FRIDAY_EVENING, 2) == datetime.datetime(2026, 12, 9, 23, 59, 59, 999999, tzinfo=LONDON)


def test_the_hour_of_arrival_does_not_matter_and_the_zone_does():
    morning = FRIDAY_EVENING.replace(hour=0, minute=1)
    assert calendar().due(morning, 2) == calendar().due(FRIDAY_EVENING, 2)
    # 23:30 UTC on Friday is Saturday in Tokyo: day 1 is Monday in either zone.
    late_utc = datetime.datetime(2026, 12, 4, 23, 30, tzinfo=datetime.UTC)
    tokyo = working_days.WorkingCalendar(WEEKDAYS, frozenset(), ZoneInfo("Asia/Tokyo"))
    assert tokyo.due(late_utc, 1).date() == datetime.date(2026, 12, 7)
    # 23:30 UTC on Thursday is Thursday in London (day 1: Friday) and Friday in Tokyo (day 1: Monday).
    thursday_late_utc = datetime.datetime(2026, 12, 3, 23, 30, tzinfo=datetime.UTC)
    assert calendar().due(thursday_late_utc, 1).date() == datetime.date(2026, 12, 4)
    assert tokyo.due(thursday_late_utc, 1).date() == datetime.date(2026, 12, 7)


def test_business_days_between_counts_working_days_after_the_first():
    cal = calendar(datetime.date(2026, 12, 7))
    assert cal.business_days_between(FRIDAY_EVENING, FRIDAY_EVENING) == 0
    assert cal.business_days_between(FRIDAY_EVENING, datetime.datetime(2026, 12, 9, 9, tzinfo=LONDON)) == 2


def test_a_target_is_at_least_a_day():
    with pytest.raises(ValueError):
        calendar().due(FRIDAY_EVENING, 0)


def test_the_calendar_comes_from_settings(settings):
    settings.BASTION_WORKING_DAYS = ["sun", "mon", "tue", "wed", "thu"]
    settings.BASTION_HOLIDAYS = [datetime.date(2026, 12, 6)]
    settings.BASTION_BUSINESS_TIME_ZONE = "Asia/Jerusalem"
    cal = working_days.from_settings()
    assert cal.weekdays == frozenset({6, 0, 1, 2, 3}) and cal.time_zone == ZoneInfo("Asia/Jerusalem")
    thursday = datetime.datetime(2026, 12, 3, 12, tzinfo=ZoneInfo("Asia/Jerusalem"))
    assert cal.due(thursday, 1).date() == datetime.date(2026, 12, 7)  # Fri, Sat off; Sunday a holiday
