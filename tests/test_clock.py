"""The ``clock`` fixture, which tests use to let time pass."""

from __future__ import annotations

import datetime

from django.utils import timezone

HOUR = datetime.timedelta(hours=1)


def at(clock, hour: int, minute: int) -> datetime.datetime:
    now = timezone.localtime(timezone.now())
    then = timezone.make_aware(
        datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(hour, minute))
    )
    clock.advance(then - now)
    return timezone.localtime(timezone.now())


def test_a_span_that_would_pass_midnight_starts_after_it(clock):
    """A test run at 23:13 that let an hour pass saw its page's identity change with the date (CI, stop 28)."""
    before = at(clock, 23, 30)
    clock.keep_within_one_day(2 * HOUR)
    now = timezone.localtime(timezone.now())
    assert now.date() == before.date() + datetime.timedelta(days=1)
    assert (now + 2 * HOUR).date() == now.date()


def test_a_span_within_the_day_leaves_the_clock_alone(clock):
    before = at(clock, 9, 0)
    clock.keep_within_one_day(2 * HOUR)
    assert timezone.localtime(timezone.now()) - before < datetime.timedelta(seconds=5)
