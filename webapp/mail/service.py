"""Queueing email: composed in full now, stored in the outbox with the change that caused it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from email.utils import parseaddr
from typing import Any, NamedTuple

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from markupsafe import escape
from sqlalchemy import Insert, insert
from sqlmodel import Session

from ..models import OutboxMessage, User, utcnow
from ..timefmt import DEFAULT_ZONE

#: Called for every email that has a user: returns (headers, footer context) for the list
#: (or for a transactional email when list_id is None). The preferences capability installs it.
ListExtras = Callable[[int, str | None], tuple[dict[str, str], dict[str, Any]]]
_list_extras: ListExtras | None = None


#: Run by the mail worker before each batch it delivers (a capability's pending fan-out, such as
#: a policy notice to everyone on a list): each writes outbox rows and returns how many.
before_delivery: list[Callable[[], int]] = []


def set_list_extras(provider: ListExtras) -> None:
    """Install the function that adds List-Unsubscribe headers and the footer links."""
    global _list_extras
    _list_extras = provider


def make_message_id() -> str:
    """A globally unique Message-ID in Sentro's mail domain."""
    return f"<{utcnow():%Y%m%d%H%M%S}.{secrets.token_hex(12)}@{_mail_domain()}>"


def _mail_domain() -> str:
    return parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "sentro.co"


def compose(template: str, context: dict[str, Any]) -> tuple[str, str, str | None]:
    """Render `templates/email/<template>/` into (subject, text body, HTML body or None)."""
    subject = render_template(f"email/{template}/subject.txt", **context)
    text = render_template(f"email/{template}/body.txt", **context)
    try:
        html: str | None = render_template(f"email/{template}/body.html", **context)
    except TemplateNotFound:
        html = None
    return " ".join(subject.split()), text, html


def queue_email(
    db: Session,
    *,
    template: str,
    to: str,
    context: dict[str, Any] | None = None,
    user_id: int | None = None,
    list_id: str | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """Add an email to the outbox in `db`'s transaction; the caller commits it with its change."""
    headers: dict[str, str] = {}
    # Times in an email are in the recipient's zone when the caller names it (timefmt.zone_of),
    # never in the zone of whoever happens to be signed in while it is queued.
    context = {
        "base_url": current_app.config["BASE_URL"],
        "time_zone": DEFAULT_ZONE,
        **(context or {}),
    }
    if user_id is not None and _list_extras is not None and _is_contact_address(db, user_id, to):
        extra_headers, footer = _list_extras(user_id, list_id)
        headers.update(extra_headers)
        context.setdefault("footer", footer)
    subject, text, html = compose(template, context)
    message = OutboxMessage(
        user_id=user_id,
        to_addr=to,
        subject=subject,
        text_body=text,
        html_body=html,
        headers=headers,
        message_id=make_message_id(),
        template=template,
        list_id=list_id,
        dedupe_key=dedupe_key,
    )
    db.add(message)
    return message


def _is_contact_address(db: Session, user_id: int, to: str) -> bool:
    """Whether `to` is the account's confirmed contact address.

    The preference link and List-Unsubscribe headers manage the account's mail, so they go
    only there: an address the person has not confirmed (a new one, perhaps mistyped) or no
    longer uses gets an email that carries nothing but its own purpose.
    """
    user = db.get(User, user_id)
    return user is not None and user.email.casefold() == to.casefold()


class Recipient(NamedTuple):
    """One person a bulk email goes to."""

    user_id: int
    to: str
    dedupe_key: str | None = None


class _Rendered(NamedTuple):
    subject: str
    text: str
    html: str | None


def queue_bulk(
    db: Session,
    *,
    template: str,
    recipients: Iterable[Recipient],
    context: dict[str, Any] | None = None,
    list_id: str | None = None,
    chunk: int = 1000,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Queue the same email to many people, as `queue_email` would, rendering it once, not per person.

    Each person's footer (from the list-extras hook) is substituted into a rendering made with
    placeholders; the first person of each footer shape is also rendered in full, and if the two
    differ that shape is rendered per person. Rows go in with executemany, `chunk` at a time; a
    row whose `dedupe_key` is already queued is skipped. Returns how many rows were offered.
    """
    base = {
        "base_url": current_app.config["BASE_URL"],
        "time_zone": DEFAULT_ZONE,
        **(context or {}),
    }
    renderer = _BulkRenderer(template, base)
    now = utcnow()
    writer = _OutboxWriter(db, {"template": template, "list_id": list_id, "now": now})
    stamp, domain = f"{now:%Y%m%d%H%M%S}", _mail_domain()
    total = 0
    rows: list[dict[str, Any]] = []
    for recipient in recipients:
        headers: dict[str, str] = {}
        footer: dict[str, Any] | None = None
        if _list_extras is not None:
            extra_headers, footer = _list_extras(recipient.user_id, list_id)
            headers.update(extra_headers)
        subject, text, html = renderer.render(footer)
        rows.append(
            {
                "user_id": recipient.user_id,
                "to_addr": recipient.to,
                "subject": subject,
                "text_body": text,
                "html_body": html,
                "headers": headers,
                "message_id": f"<{stamp}.{secrets.token_hex(12)}@{domain}>",
                "dedupe_key": recipient.dedupe_key,
            }
        )
        if len(rows) >= chunk:
            total += writer.write(rows, on_chunk)
    if rows:
        total += writer.write(rows, on_chunk)
    return total


class _OutboxWriter:
    """Writes outbox rows with executemany, skipping any whose dedupe key is already queued.

    On SQLite and PostgreSQL the statement is compiled once and each column's own bind
    processor (the same SQLAlchemy would apply) runs once for the values every row shares, so
    the driver receives ready values; elsewhere rows go through SQLAlchemy Core.
    """

    def __init__(self, db: Session, shared: dict[str, Any]) -> None:
        now = shared["now"]
        self.db = db
        self.constant = {
            "template": shared["template"],
            "list_id": shared["list_id"],
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": now,
            "claimed_by": None,
            "claimed_until": None,
            "last_error": "",
            "created_at": now,
            "sent_at": None,
            "body_id": None,
        }
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        dialect = db.get_bind().dialect
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        elif dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            self.statement: Insert = insert(table)
            self.sql = None
            return
        self.statement = dialect_insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
        names = [c.name for c in table.columns if c.name != "id"]
        compiled = self.statement.compile(dialect=dialect, column_keys=names)
        self.sql = str(compiled)
        self.order = compiled.positiontup  # None for named parameter styles
        self.process = {}
        for column in table.columns:
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.process[column.name] = processor
        self.ready = {
            k: self.process[k](v) if k in self.process else v for k, v in self.constant.items()
        }

    def write(self, rows: list[dict[str, Any]], on_chunk: Callable[[int], None] | None) -> int:
        """Insert `rows` (the per-person columns), then empty the list; return how many."""
        if self.sql is None:
            self.db.execute(self.statement, [{**row, **self.constant} for row in rows])
        else:
            varying = [k for k in rows[0] if k in self.process]
            params = []
            for row in rows:
                values = {**row, **self.ready}
                for key in varying:
                    values[key] = self.process[key](values[key])
                params.append(tuple(values[n] for n in self.order) if self.order else values)
            self.db.connection().exec_driver_sql(self.sql, params)
        count = len(rows)
        rows.clear()
        if on_chunk is not None:
            on_chunk(count)
        return count


class _Filler(NamedTuple):
    """A rendering split at its placeholders: literal text and keys, alternating."""

    subject: list[str]
    text: list[str]
    html: list[str] | None


class _BulkRenderer:
    """Renders an email once per footer shape, with placeholders where each person's values go."""

    def __init__(self, template: str, context: dict[str, Any]) -> None:
        self.template = template
        self.context = context
        self.mark = f"\x00bulk{secrets.token_hex(6)}:"
        self.split = re.compile(re.escape(self.mark) + r"(\w+)\x00")
        self.shapes: dict[tuple | None, _Rendered | _Filler | None] = {}  # None: per person

    def render(self, footer: dict[str, Any] | None) -> _Rendered:
        if footer is None:
            if None not in self.shapes:
                self.shapes[None] = _Rendered(*compose(self.template, self.context))
            return self.shapes[None]  # type: ignore[return-value]
        per_person = {k: v for k, v in footer.items() if isinstance(v, str) and v}
        shape = tuple((k, None if k in per_person else repr(v)) for k, v in footer.items())
        if shape not in self.shapes:
            self.shapes[shape] = self._with_placeholders(footer, per_person)
        filler = self.shapes[shape]
        if not isinstance(filler, _Filler):
            return _Rendered(*compose(self.template, {**self.context, "footer": footer}))
        return self._fill(filler, per_person)

    def _with_placeholders(self, footer: dict, per_person: dict) -> _Filler | None:
        if not all(key.isidentifier() for key in per_person):
            return None
        marked = {**footer, **{k: f"{self.mark}{k}\x00" for k in per_person}}
        subject, text, html = compose(self.template, {**self.context, "footer": marked})
        filler = _Filler(
            self.split.split(subject),
            self.split.split(text),
            None if html is None else self.split.split(html),
        )
        exact = _Rendered(*compose(self.template, {**self.context, "footer": footer}))
        # The template may do more than print a value; then only a full rendering is right.
        return filler if self._fill(filler, per_person) == exact else None

    @staticmethod
    def _fill(filler: _Filler, values: dict[str, str]) -> _Rendered:
        escaped = {key: str(escape(value)) for key, value in values.items()}

        def join(parts: list[str], source: dict[str, str]) -> str:
            # split() leaves literal text at even positions and placeholder keys at odd ones.
            return "".join(source.get(p, "") if i % 2 else p for i, p in enumerate(parts))

        html = None if filler.html is None else join(filler.html, escaped)
        return _Rendered(join(filler.subject, values), join(filler.text, values), html)
