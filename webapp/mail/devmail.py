"""`/dev/mail`: read what the development mail catcher received (development only)."""

from __future__ import annotations

import mailbox
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")
_parser = BytesParser(policy=policy.default)


def maildir_path() -> Path:
    """Where the development catcher writes: a Maildir in the instance folder."""
    return Path(current_app.instance_path) / "dev-mail"


def _maildir() -> mailbox.Maildir | None:
    path = maildir_path()
    return mailbox.Maildir(path, create=False) if path.exists() else None


#: A Maildir name as Python's `mailbox` (and so aiosmtpd's catcher) writes it:
#: seconds, microseconds (not zero-padded), process id, a count in the process.
_NAME = re.compile(r"(\d+)\.M(\d+)P\d+Q(\d+)")


def arrival(key: str) -> tuple[int, int, int, str]:
    """A sort key for when a message arrived, from its Maildir name.

    The names cannot be sorted as text: within one second "M99" would sort after "M123456".
    A name of another shape sorts first (oldest), by itself.
    """
    found = _NAME.match(key)
    if found is None:
        return (0, 0, 0, key)
    return (int(found[1]), int(found[2]), int(found[3]), key)


def _messages(limit: int) -> list[tuple[str, EmailMessage]]:
    box = _maildir()
    if box is None:
        return []
    keys = sorted(box.keys(), key=arrival, reverse=True)[:limit]
    return [(key, _parser.parsebytes(box.get_bytes(key))) for key in keys]


@bp.get("/")
def inbox():
    """Every caught message, newest first."""
    return render_template("dev/mail.html", messages=_messages(200))


@bp.get("/<key>")
def message(key: str):
    """One caught message, its headers and text."""
    box = _maildir()
    if box is None or key not in box:
        abort(404)
    email = _parser.parsebytes(box.get_bytes(key))
    body = email.get_body(preferencelist=("plain",))
    text = body.get_content() if body else ""
    return render_template("dev/message.html", key=key, email=email, text=text)
