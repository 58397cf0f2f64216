"""The current time, in one place.

Everything that stamps or compares times asks this module, so that the demo loader can replay
a campaign's past weeks with real events (``frozen``), and so that times are always aware UTC.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from datetime import date, datetime, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from casework.settings import setting

_frozen: ContextVar[datetime | None] = ContextVar("casework_frozen_now", default=None)


def now() -> datetime:
    return _frozen.get() or datetime.now(timezone.utc)


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[None]:
    token = _frozen.set(at.astimezone(timezone.utc))
    try:
        yield
    finally:
        _frozen.reset(token)


def local_zone() -> ZoneInfo:
    return ZoneInfo(setting("CASEWORK_TIMEZONE"))


def local_today() -> date:
    return now().astimezone(local_zone()).date()


def end_of_local_day(day: date) -> datetime:
    """A deadline given as a date runs to the end of that day in the district's time zone."""
    midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), local_zone())
    return midnight.astimezone(timezone.utc)


def deadline_day(due_at: datetime) -> date:
    """The date a deadline was given as: it runs to the end of that local day, so the instant
    stored is the next midnight, which belongs to the day before."""
    return (due_at - timedelta(microseconds=1)).astimezone(local_zone()).date()


def days_from_now(days: int) -> datetime:
    return now() + timedelta(days=days)
