"""Queueing email: composed in full now, stored in the outbox with the change that caused it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from email.utils import parseaddr
from typing import Any

from flask import current_app, render_template
from jinja2 import TemplateNotFound
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
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "sentro.co"
    return f"<{utcnow():%Y%m%d%H%M%S}.{secrets.token_hex(12)}@{domain}>"


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
