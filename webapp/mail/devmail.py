"""`/dev/mail`: read what the development mail catcher received (development only)."""

from __future__ import annotations

import mailbox
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")


def maildir_path() -> Path:
    """Where the development catcher writes: a Maildir in the instance folder."""
    return Path(current_app.instance_path) / "dev-mail"


def _messages() -> list[tuple[str, object]]:
    path = maildir_path()
    if not path.exists():
        return []
    box = mailbox.Maildir(path, create=False)
    parser = BytesParser(policy=policy.default)
    items = [(key, parser.parsebytes(box.get_bytes(key))) for key in box]
    return sorted(items, key=lambda item: item[0], reverse=True)  # Maildir keys start with the time


@bp.get("/")
def inbox():
    """Every caught message, newest first."""
    return render_template("dev/mail.html", messages=_messages()[:200])


@bp.get("/<key>")
def message(key: str):
    """One caught message, its headers and text."""
    for item_key, email in _messages():
        if item_key == key:
            body = email.get_body(preferencelist=("plain",))
            text = body.get_content() if body else ""
            return render_template("dev/message.html", key=key, email=email, text=text)
    abort(404)
