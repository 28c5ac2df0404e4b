"""Fill every table about a person with one row of distinctive values, by walking the metadata.

Nothing here names a table: a table another engineer adds later is filled too, or the
populator fails naming the table and column it cannot fill. Personal columns of string type
get a token like ``zq-sign_in-user_agent-91x`` that a dump can be searched for; other
columns get their default or a neutral value; a foreign key to `user` names the person, any
other foreign key a row made for it first (or NULL where allowed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Table, insert, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from webapp.closure.erasure import python_type
from webapp.models import metadata, user_linked_tables


class PopulateError(RuntimeError):
    """A column the populator does not know how to fill."""


def token(table: Table, column: Column, marker: str = "zq") -> str:
    """The distinctive value planted in a personal string column."""
    full = f"{marker}-{table.name}-{column.name}-91x"
    length = getattr(column.type, "length", None)
    if length is None or len(full) <= length:
        return full
    if length < 2:
        raise PopulateError(f"{table.name}.{column.name}: too short for a distinctive value")
    if length < 10:
        # Codes such as a country: upper case cannot collide with the lower-case tokens.
        return "QZ"
    digest = hashlib.sha1(f"{table.name}.{column.name}".encode()).hexdigest()
    return f"{marker}{digest}"[: length - 3] + "91x"


class Populator:
    """Insert one row per table through `connection`; remember primary keys and tokens."""

    def __init__(self, connection: Connection, now: dt.datetime, marker: str = "zq") -> None:
        self.connection = connection
        self.marker = marker
        self.now = now
        self.rows: dict[str, Any] = {}
        self.tokens: dict[tuple[str, str], str] = {}
        self._serial = itertools.count(1)

    def person(self) -> int:
        """The user row, then one row in every other table linked to a user."""
        user_id = self.ensure(metadata.tables["user"])
        for table in user_linked_tables():
            self.ensure(table)
        return user_id

    def ensure(self, table: Table, chain: tuple[str, ...] = ()) -> Any:
        """The primary key of this table's populated row, inserting it first if needed."""
        if table.name in self.rows:
            return self.rows[table.name]
        if table.name in chain:
            raise PopulateError(f"{table.name}: foreign keys form a cycle through {chain}")
        values = {}
        for column in table.columns:
            generated = column.primary_key and column.autoincrement in (True, "auto")
            if generated and python_type(column) is int:
                continue
            values[column.name] = self.value(table, column, (*chain, table.name))
        result = self.connection.execute(insert(table).values(**values))
        key = result.inserted_primary_key[0]
        self.rows[table.name] = key
        return key

    def value(self, table: Table, column: Column, chain: tuple[str, ...]) -> Any:
        """A value for one column."""
        for fk in column.foreign_keys:
            target = fk.column.table
            if target.name in self.rows or target.name not in chain:
                return self.ensure(target, chain)
            if column.nullable:
                return None
            raise PopulateError(f"{table.name}.{column.name}: cannot satisfy its foreign key")
        try:
            kind = python_type(column)
        except NotImplementedError as exc:
            raise PopulateError(f"{table.name}.{column.name}: unknown column type") from exc
        if issubclass(kind, str):
            if "personal" in column.info:
                planted = token(table, column, self.marker)
                self.tokens[(table.name, column.name)] = planted
                return planted
            default = column.default
            if default is not None and default.is_scalar:
                return default.arg
            neutral = f"n{next(self._serial)}{self.marker[:5]}-{table.name}-{column.name}"
            length = getattr(column.type, "length", None)
            return neutral[:length] if length else neutral
        default = column.default
        if default is not None and default.is_scalar:
            return default.arg
        if default is not None and default.is_callable:
            return default.arg(None)
        for type_, filler in (
            (bool, False),
            (int, 0),
            (float, 0.0),
            (Decimal, Decimal(0)),
            (dt.datetime, self.now),
            (dt.date, self.now.date()),
            (dict, {}),
            (list, []),
        ):
            if issubclass(kind, type_):
                return filler
        if column.nullable:
            return None
        raise PopulateError(f"{table.name}.{column.name}: no value for {kind.__name__}")


def dump(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, read through the column types (sealed values unsealed)."""
    return {
        table.name: [dict(row._mapping) for row in connection.execute(select(table))]
        for table in metadata.sorted_tables
    }


def as_text(value: Any) -> str:
    """A value as text, JSON included, for searching."""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


# --- a populated site: what the route walkers and `make screenshots` open -----------------

CUSTOMER = ("ana", {"email": "ana@example.com", "name": "Ana Customer"})
STAFF = ("sam", {"email": "sam@sentro.co", "name": "Sam Staff", "groups": ["sentro-staff"]})
QUEUE_PEOPLE = (
    ("Aroha Ngata", "aroha.ngata@example.com"),
    ("Ben Williams", "ben.w@example.com"),
    ("Chloe Patel-Henderson", "chloe.patel-henderson.long.address@example.co.nz"),
)


@dataclass
class Site:
    """A site with realistic data in every table, and the URL variables to open every page."""

    person_id: int
    #: endpoint -> its URL variables, filled from the data (a list: the page is opened for each)
    values: dict[str, dict[str, object] | list[dict[str, object]]] = field(default_factory=dict)
    #: the settings its app was built with (a live server of the same site uses them too)
    settings: dict[str, object] = field(default_factory=dict)

    def path(self, rule) -> list[str]:
        """Every path of `rule` this site can open (each value of an `any(...)` converter)."""
        from tests.routes import fill, params

        known = self.values.get(rule.endpoint, {})
        options: list[dict[str, object]] = (
            [dict(v) for v in known] if isinstance(known, list) else [dict(known)]
        )
        for converter, name in params(rule):
            if converter == "any" and name not in options[0]:
                choices = [c.strip().strip("'\"") for c in _any_args(rule, name)]
                options = [{**o, name: c} for o in options for c in choices]
        return [fill(rule, o) for o in options]


def _any_args(rule, name: str) -> list[str]:
    import re

    found = re.search(r"<any\(([^)]*)\):" + name + ">", rule.rule)
    return found[1].split(",") if found else []


def populate_site(app, provider_url: str, sign_in) -> Site:
    """Fill the site through its own forms (as people and staff would), then every table left.

    `sign_in(client, provider_url, sub, claims)` is the real sign-in of tests/conftest.py. The
    customer (`CUSTOMER`) ends with data in every table about a person; staff queues have rows
    from several people; two policy versions are published; live tokens are in `Site.values`.
    """
    from webapp import db as database
    from webapp import tokens
    from webapp.closure import service as closure
    from webapp.inquiries import service as inquiries
    from webapp.models import Inquiry, PaymentCard, User, utcnow
    from webapp.policy import service as policy
    from webapp.preferences.links import preferences_token, unsubscribe_token

    today = utcnow().date()
    customer, staff = app.test_client(), app.test_client()
    _ok(sign_in(customer, provider_url, *CUSTOMER))
    _ok(sign_in(staff, provider_url, *STAFF))
    with app.test_request_context(), _session(app) as session:
        ana = session.scalars(select(User).where(User.subject == CUSTOMER[0])).one()
        ana.preferred_name, ana.phone = "Ana", "+64211234567"
        ana.address_line1, ana.city, ana.postcode, ana.country = (
            "12 Tui Street",
            "Wellington",
            "6011",
            "NZ",
        )
        session.add(
            PaymentCard(user_id=ana.id, brand="Visa", last4="4242", exp_month=8, exp_year=2029)
        )
        person_id = ana.id
    for path, form in (
        ("/account/email-preferences/offers", {"subscribed": "1"}),
        ("/account/email-preferences/research", {"subscribed": "1"}),
        ("/account/email-preferences/research", {"subscribed": "0"}),
        ("/account/privacy-controls", {"analytics": "allow", "personalisation": "refuse"}),
        ("/privacy/acknowledge", {"version": "1"}),
        ("/account/profile/email", {"email": "ana.customer@example.org"}),
        (
            "/account/privacy-requests",
            {
                "kind": "access",
                "subject": "Copy of my call recordings",
                "message": "Please send me any recordings of my calls with your support team.",
            },
        ),
        (
            "/account/privacy-requests",
            {
                "kind": "correction",
                "subject": "My date of joining is wrong",
                "message": "Your records say I joined in 2019; it was 2018.",
            },
        ),
        ("/account/close", {"confirmation": "CLOSE", "reason": "I am moving overseas."}),
    ):
        _ok(customer.post(path, data=form))
    with app.test_request_context(), _session(app) as session:
        ana = session.get(User, person_id)
        asked = session.scalars(select(Inquiry).where(Inquiry.user_id == person_id)).all()
        access = next(i for i in asked if i.kind == "access")
        correction = next(i for i in asked if i.kind == "correction")
        closure_id = closure.latest_request(session, person_id).id
        for n, (name, email) in enumerate(QUEUE_PEOPLE):
            other = User(issuer="https://id.test", subject=f"queue-{n}", email=email, name=name)
            session.add(other)
            session.flush()
            closure.request_closure(session, other, confirmation="CLOSE")
            opened = inquiries.open_inquiry(
                session,
                other,
                kind=("access", "other", "disclosure")[n],
                subject=f"Question {n + 1} about my information",
                message="Which companies have you shared my details with this year?",
            )
            open_inquiry_id = opened.inquiry.id
    c = str(correction.id)
    for path, form in (
        (f"/staff/privacy-requests/{access.id}/answer", {"body": "Attached are your two calls."}),
        (f"/staff/privacy-requests/{c}/refuse", {"refusal_reason": "Our records match."}),
        (f"/staff/closures/{closure_id}/review", {}),
        (
            f"/staff/closures/{closure_id}/holds",
            {
                "what": "payment_card",
                "legal_basis": "Tax Administration Act 1994, s 22: business records for 7 years",
                "until": (today + dt.timedelta(days=7 * 365)).isoformat(),
            },
        ),
        (
            "/staff/disclosures",
            {
                "person": CUSTOMER[1]["email"],
                "recipient": "New Zealand Police",
                "disclosed_on": (today - dt.timedelta(days=12)).isoformat(),
                "categories": "Account",
                "purpose": "A production order in an investigation.",
                "legal_basis": "Search and Surveillance Act 2012, s 74",
                "reference": "NZP-2026-0412",
            },
        ),
    ):
        _ok(staff.post(path, data=form))
    statement = {"field": "name", "statement": "I joined Sentro in March 2018, not 2019."}
    _ok(customer.post(f"/account/privacy-requests/{c}/statement", data=statement))
    with app.test_request_context(), _session(app) as session:
        version_2 = "\n\n".join(
            [
                policy.versions(session)[-1].text,
                "## Time zones\n\nWe show times in your own time zone.",
            ]
        )
        published = policy.publish(
            session,
            text=version_2,
            summary="We added a section on time zones.",
            effective_on=today,
            today=today,
            now=utcnow(),
        )
        assert published.ok, published
    with app.app_context(), database.engine().begin() as connection:
        _fill_the_rest(connection, person_id)
        bodies = " ".join(r[0] for r in connection.execute(select(_outbox().c.text_body)))
        sessions = metadata.tables["user_session"]
        session_id = connection.scalar(
            select(sessions.c.id).where(sessions.c.user_id == person_id).order_by(sessions.c.id)
        )
        return Site(
            person_id=person_id,
            values={
                "inquiries.thread": {"inquiry_id": access.id},
                "inquiries_staff.show": [
                    {"inquiry_id": correction.id},  # refused, with a statement of correction
                    {"inquiry_id": open_inquiry_id},  # open: every staff form on the page
                ],
                "closure_staff.case": {"request_id": closure_id},
                "closure_staff.confirm_approval": {"request_id": closure_id},
                "policy_staff.notice_progress": {"number": 2},
                "policy.version": {"number": 2},
                "profile.confirm_email": {"token": _token(bodies, "/email/confirm/")},
                "profile.undo_email": {"token": _token(bodies, "/email/undo/")},
                "preferences.by_token": {"token": preferences_token(person_id)},
                "preferences.unsubscribe": {"token": unsubscribe_token(person_id, "offers")},
                # The new-sign-in alert's link, for the customer's own first session.
                "mydata.end_session_link": {
                    "token": tokens.make(tokens.SESSION_END, {"s": session_id, "u": person_id})
                },
            },
        )


@contextmanager
def _session(app) -> Iterator[Session]:
    """An ORM session on the site's database, committed at the end."""
    with Session(app.extensions["sentro.engine"], expire_on_commit=False) as session:
        yield session
        session.commit()


def _ok(response) -> None:
    if response.status_code >= 400:
        raise PopulateError(f"{response.request.path}: {response.status_code}")


def _outbox() -> Table:
    return metadata.tables["outbox_message"]


def _token(text: str, marker: str) -> str:
    import re

    found = re.search(re.escape(marker) + r"([A-Za-z0-9_.\-]+)", text)
    if not found:
        raise PopulateError(f"no link with {marker} in the outbox")
    return found[1]


def _fill_the_rest(connection: Connection, person_id: int) -> None:
    """One row in each table about a person that the forms above did not reach."""
    populator = Populator(connection, dt.datetime.now(dt.UTC), marker="zz")
    populator.rows["user"] = person_id
    for table in user_linked_tables():
        if table.name == "user":
            continue
        held = connection.execute(
            select(table).where(table.c.user_id == person_id).limit(1)
        ).first()
        if held is None:
            populator.ensure(table)
