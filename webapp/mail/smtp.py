"""Talking to the SMTP server: where it is (SMTP_URL), and the MIME message for an outbox row."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

from ..models import OutboxBody, OutboxMessage
from . import shared


@dataclass(frozen=True)
class SmtpServer:
    """Where to deliver: parsed from SMTP_URL (`smtp://user:pass@host:port`, `smtps://` for TLS)."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    tls: bool = False
    starttls: bool = False

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps", "smtp+starttls"} or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:port")
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            tls=tls,
            starttls=parts.scheme == "smtp+starttls",
        )

    def connect(self, timeout: float = 20) -> smtplib.SMTP:
        """An open, authenticated SMTP connection."""
        if self.tls:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=timeout)
            if self.starttls:
                connection.starttls()
        if self.username:
            connection.login(self.username, self.password)
        return connection


def to_email(
    message: OutboxMessage, mail_from: str, body: OutboxBody | None = None
) -> EmailMessage:
    """The MIME message for an outbox row (with its shared body, when it has one)."""
    headers, text, html = message.headers, message.text_body, message.html_body
    if body is not None:
        extra, text, html = shared.personalise(body, message.user_id, message.list_id)
        headers = {**headers, **extra}
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = message.to_addr
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at.astimezone(UTC))
    email["Message-ID"] = message.message_id
    for name, value in headers.items():
        email[name] = value
    email.set_content(text)
    if html:
        email.add_alternative(html, subtype="html")
    return email
