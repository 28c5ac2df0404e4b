"""Times are shown in the reader's zone, with the zone named: pages, emails, signed out or in."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import render_template_string
from sqlmodel import select

from webapp import timefmt
from webapp.models import OutboxMessage, User

ROOT = Path(__file__).resolve().parent.parent
SUMMER = datetime(2026, 1, 15, 3, 4, tzinfo=UTC)  # NZDT, UTC+13
WINTER = datetime(2026, 7, 15, 3, 4, tzinfo=UTC)  # NZST, UTC+12


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (SUMMER, "Pacific/Auckland", "15 January 2026, 16:04 NZDT"),
        (WINTER, "Pacific/Auckland", "15 July 2026, 15:04 NZST"),
        (SUMMER, "Europe/London", "15 January 2026, 03:04 GMT"),
        (WINTER, "Europe/London", "15 July 2026, 04:04 BST"),
        (SUMMER, "Asia/Dubai", "15 January 2026, 07:04 UTC+04"),  # no letters: the offset
        (SUMMER, "UTC", "15 January 2026, 03:04 UTC"),
        (datetime(2026, 1, 15, 3, 4), "Pacific/Auckland", "15 January 2026, 16:04 NZDT"),  # naive
    ],
)
def test_a_moment_is_shown_in_the_zone_with_the_zone_named(moment, zone, shown):
    assert timefmt.moment(moment, zone) == shown


@pytest.mark.parametrize("zone", [None, "", "Mars/Base", "erased-7", "../etc/localtime"])
def test_an_unknown_or_erased_zone_falls_back_to_auckland(zone):
    assert timefmt.moment(SUMMER, zone).endswith("NZDT")
    assert timefmt.local(SUMMER, zone).utcoffset().total_seconds() == 13 * 3600


def test_a_moment_late_in_the_utc_day_is_already_tomorrow_in_auckland():
    late = datetime(2026, 3, 3, 11, 30, tzinfo=UTC)
    assert timefmt.day(late, "Pacific/Auckland") == "4 March 2026"
    assert timefmt.day(late, "America/Los_Angeles") == "3 March 2026"
    assert timefmt.day(date(2026, 3, 3), "America/Los_Angeles") == "3 March 2026"  # a date stays


def test_every_listed_zone_is_iana_and_auckland_is_one():
    names = timefmt.zone_names()
    assert "Pacific/Auckland" in names and "America/New_York" in names
    assert all(timefmt.is_zone(n) for n in names)
    assert not timefmt.is_zone("pacific/auckland")


def test_a_signed_out_page_shows_auckland_time(app):
    with app.test_request_context():
        assert render_template_string("{{ t | datetime }}", t=SUMMER).endswith("16:04 NZDT")


def test_a_signed_in_person_sees_their_own_zone(app, client, person, db):
    user = db.get(User, person.id)
    user.time_zone = "Europe/London"
    db.add(user)
    db.commit()
    html = client.get("/account/security").get_data(as_text=True)
    assert re.search(r"\d{2}:\d{2} GMT", html)


def test_an_email_names_the_recipients_zone_not_the_senders(app, client, staff, db):
    """Queued while a member of staff in London is signed in: the person reads Auckland time."""
    staff_row = db.get(User, staff.id)
    staff_row.time_zone = "Europe/London"
    db.add(staff_row)
    db.commit()
    from flask_login import login_user

    from webapp import db as database
    from webapp.mail import queue_email

    with app.test_request_context():
        login_user(database.session().get(User, staff.id))
        context = {"at": SUMMER}
        assert render_template_string("{{ at | datetime }}", **context).endswith("GMT")
        assert render_template_string(
            "{{ at | datetime }}", time_zone="Pacific/Auckland", **context
        ).endswith("NZDT")
        session = database.session()
        queue_email(
            session,
            template="closure_received",
            to="someone@example.com",
            context={"request": _Request(SUMMER.replace(hour=11, minute=30)), "name": "Someone"},
        )
        session.commit()
    message = db.exec(select(OutboxMessage)).one()
    assert "16 January 2026" in message.text_body  # 11:30 UTC on the 15th is the 16th in NZ


class _Request:
    """Enough of a closure request for its receipt email."""

    def __init__(self, received_at: datetime) -> None:
        self.received_at = received_at
        self.due_on = date(2026, 2, 12)
        self.id = 1


def test_a_closure_email_uses_the_persons_zone(app, client, person, db, outbox):
    user = db.get(User, person.id)
    user.time_zone = "America/Los_Angeles"
    db.add(user)
    db.commit()
    client.post("/account/close", data={"confirmation": "CLOSE"})
    message = db.exec(select(OutboxMessage)).all()[-1]
    with app.app_context():
        from webapp.models import ClosureRequest

        request = db.exec(select(ClosureRequest)).one()
        expected = timefmt.day(request.received_at, "America/Los_Angeles")
    assert f"on {expected}" in message.text_body


def test_no_template_or_module_formats_a_time_by_hand():
    """One helper shows every time: no strftime, hand-made month names or "UTC" in the views."""
    offenders = []
    for path in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("templates/**/*.txt")]:
        text = path.read_text(encoding="utf-8")
        if "strftime" in text or re.search(r"\| *format\(.*%[BdHM]", text):
            offenders.append(str(path.relative_to(ROOT)))
    for path in ROOT.glob("webapp/**/*.py"):
        if path.name == "timefmt.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"%B|%H:%M|\.strftime\(", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
