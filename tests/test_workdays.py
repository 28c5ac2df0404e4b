"""Working days for Privacy Act deadlines."""

from datetime import date

import pytest

from webapp.workdays import add_working_days, is_working_day, working_days_between


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 25), True),  # a Wednesday
        (date(2026, 11, 28), False),  # a Saturday
        (date(2026, 2, 6), False),  # Waitangi Day
        (date(2026, 12, 24), True),
        (date(2026, 12, 29), False),  # summer break
        (date(2027, 1, 15), False),  # last day of the break
        (date(2027, 1, 18), True),  # first Monday after it
    ],
)
def test_working_days(day, working):
    assert is_working_day(day) is working


def test_twenty_working_days_skip_the_summer_break():
    # Received 18 December 2026: 4 working days before the break, the rest after 15 January.
    due = add_working_days(date(2026, 12, 18))
    assert due == date(2027, 2, 9)  # Monday 8 February is Waitangi Day observed
    assert working_days_between(date(2026, 12, 18), due) == 20


def test_an_ordinary_month():
    assert add_working_days(date(2026, 11, 2)) == date(2026, 11, 30)
