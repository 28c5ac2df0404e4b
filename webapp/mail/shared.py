"""Bulk email with one shared body: rendered once with marks, each person's values filled in at
sending.

A notice to a million people is then one `OutboxBody` and a million small outbox rows that the
database can write with one INSERT ... SELECT; the worker fills each person's footer (their
unsubscribe and preference links, from the list-extras hook) into the body as it sends.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import current_app
from markupsafe import escape
from sqlalchemy import select
from sqlmodel import Session

from ..models import OutboxBody
from . import service

#: Any person's id serves to check that the template only prints the footer's values.
_SAMPLE_USER = 1
_END = "@@"


def _marks(mark: str) -> re.Pattern[str]:
    return re.compile(re.escape(mark) + r"(\w+)" + re.escape(_END))


def render_shared(
    db: Session, template: str, context: dict[str, Any], list_id: str | None
) -> OutboxBody | None:
    """Render `template` once with a mark for each footer value, store and return the body.

    None when the template does more with a footer value than print it (the rendering filled
    with a sample person's values differs from that person's own rendering): then each person's
    email must be rendered in full.
    """
    context = {"base_url": current_app.config["BASE_URL"], **context}
    extras = service._list_extras
    footer = extras(_SAMPLE_USER, list_id)[1] if extras is not None else None
    mark = f"@@{secrets.token_hex(4)}:"
    marked = footer
    if footer is not None:
        if not all(isinstance(k, str) and k.isidentifier() for k in footer):
            return None
        marked = {
            k: f"{mark}{k}{_END}" if isinstance(v, str) and v else v for k, v in footer.items()
        }
    subject, text, html = service.compose(template, {**context, "footer": marked})
    body = OutboxBody(template=template, mark=mark, subject=subject, text_body=text)
    body.html_body = html
    if footer is not None:
        exact = service.compose(template, {**context, "footer": footer})
        if mark in subject or (subject, *fill(body, footer)) != exact:
            return None
    db.add(body)
    db.flush()
    return body


def fill(body: OutboxBody, footer: dict[str, Any] | None) -> tuple[str, str | None]:
    """The body's text and HTML with this person's footer values where the marks are."""
    values = {k: v for k, v in (footer or {}).items() if isinstance(v, str)}
    pattern = _marks(body.mark)
    text = pattern.sub(lambda m: values.get(m.group(1), ""), body.text_body)
    html = None
    if body.html_body is not None:
        html = pattern.sub(lambda m: str(escape(values.get(m.group(1), ""))), body.html_body)
    return text, html


def personalise(
    body: OutboxBody, user_id: int | None, list_id: str | None
) -> tuple[dict[str, str], str, str | None]:
    """(list headers, text, HTML) of a shared-body email to `user_id`, as queue_email writes them."""
    extras = service._list_extras
    if user_id is None or extras is None:
        return {}, *fill(body, None)
    headers, footer = extras(user_id, list_id)
    return headers, *fill(body, footer)


def bodies(connection, ids: set[int]) -> dict[int, OutboxBody]:
    """The shared bodies with these ids."""
    if not ids:
        return {}
    table = OutboxBody.__table__  # type: ignore[attr-defined]
    rows = connection.execute(select(table).where(table.c.id.in_(sorted(ids)))).all()
    return {row.id: OutboxBody.model_validate(dict(row._mapping)) for row in rows}
