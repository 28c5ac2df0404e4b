"""Queueing email: composed in full now, stored in the outbox with the change that caused it."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from email.utils import parseaddr
from typing import Any, NamedTuple

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from markupsafe import escape
from sqlalchemy import Insert, insert
from sqlmodel import Session

from ..models import OutboxMessage, utcnow

#: Called for every email that has a user: returns (headers, footer context) for the list
#: (or for a transactional email when list_id is None). The preferences capability installs it.
ListExtras = Callable[[int, str | None], tuple[dict[str, str], dict[str, Any]]]
_list_extras: ListExtras | None = None


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
    context = {"base_url": current_app.config["BASE_URL"], **(context or {})}
    if user_id is not None and _list_extras is not None:
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
    base = {"base_url": current_app.config["BASE_URL"], **(context or {})}
    renderer = _BulkRenderer(template, base)
    statement = _insert_skipping_duplicates(db)
    domain = _mail_domain()
    now = utcnow()
    total = 0
    rows: list[dict[str, Any]] = []
    for recipient in recipients:
        headers: dict[str, str] = {}
        footer: dict[str, Any] | None = None
        if _list_extras is not None:
            extra_headers, footer = _list_extras(recipient.user_id, list_id)
            headers.update(extra_headers)
        rendered = renderer.render(footer)
        message_id = f"<{now:%Y%m%d%H%M%S}.{secrets.token_hex(12)}@{domain}>"
        rows.append(_row(recipient, rendered, headers, message_id, template, list_id, now))
        if len(rows) >= chunk:
            total += _flush(db, statement, rows, on_chunk)
    if rows:
        total += _flush(db, statement, rows, on_chunk)
    return total


def _flush(db: Session, statement: Insert, rows: list, on_chunk: Callable | None) -> int:
    db.execute(statement, rows)
    count = len(rows)
    rows.clear()
    if on_chunk is not None:
        on_chunk(count)
    return count


def _insert_skipping_duplicates(db: Session) -> Insert:
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return insert(table)


def _row(
    recipient: Recipient,
    rendered: _Rendered,
    headers: dict[str, str],
    message_id: str,
    template: str,
    list_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "user_id": recipient.user_id,
        "to_addr": recipient.to,
        "subject": rendered.subject,
        "text_body": rendered.text,
        "html_body": rendered.html,
        "headers": headers,
        "message_id": message_id,
        "template": template,
        "list_id": list_id,
        "dedupe_key": recipient.dedupe_key,
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_by": None,
        "claimed_until": None,
        "last_error": "",
        "created_at": now,
        "sent_at": None,
    }


class _BulkRenderer:
    """Renders an email once per footer shape, with placeholders where each person's values go."""

    def __init__(self, template: str, context: dict[str, Any]) -> None:
        self.template = template
        self.context = context
        self.nonce = secrets.token_hex(6)
        self.shapes: dict[tuple, _Rendered | None] = {}  # None: this shape renders per person

    def render(self, footer: dict[str, Any] | None) -> _Rendered:
        if footer is None:
            if None not in self.shapes:
                self.shapes[None] = _Rendered(*compose(self.template, self.context))
            return self.shapes[None]  # type: ignore[return-value]
        per_person = {k: v for k, v in footer.items() if isinstance(v, str) and v}
        shape = tuple(sorted((k, None if k in per_person else repr(v)) for k, v in footer.items()))
        if shape not in self.shapes:
            self.shapes[shape] = self._with_placeholders(footer, per_person)
        rendered = self.shapes[shape]
        if rendered is None:
            return _Rendered(*compose(self.template, {**self.context, "footer": footer}))
        return self._fill(rendered, per_person)

    def _placeholder(self, key: str) -> str:
        return f"@@bulk-{self.nonce}-{key}@@"

    def _with_placeholders(self, footer: dict, per_person: dict) -> _Rendered | None:
        marked = {**footer, **{k: self._placeholder(k) for k in per_person}}
        rendered = _Rendered(*compose(self.template, {**self.context, "footer": marked}))
        exact = _Rendered(*compose(self.template, {**self.context, "footer": footer}))
        # The template may do more than print a value; then only a full rendering is right.
        return rendered if self._fill(rendered, per_person) == exact else None

    def _fill(self, rendered: _Rendered, values: dict[str, str]) -> _Rendered:
        subject, text, html = rendered
        for key, value in values.items():
            mark = self._placeholder(key)
            subject = subject.replace(mark, value)
            text = text.replace(mark, value)
            html = html.replace(mark, str(escape(value))) if html is not None else None
        return _Rendered(subject, text, html)
