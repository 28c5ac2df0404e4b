"""Recording changes to a person's data; values are masked so the audit is never a second copy."""

from __future__ import annotations

from sqlmodel import Session

from .models import AuditEvent


def mask(value: object) -> str:
    """A hint of a value that does not disclose it: first character, length, last two."""
    text = "" if value is None else str(value)
    if not text:
        return ""
    if len(text) <= 4:
        return "•" * len(text)
    return f"{text[0]}{'•' * min(len(text) - 3, 12)}{text[-2:]}"


def record(
    db: Session,
    *,
    user_id: int,
    action: str,
    actor: str = "self",
    actor_id: int | None = None,
    field: str = "",
    old: object = None,
    new: object = None,
    ip: str | None = None,
) -> AuditEvent:
    """Add an audit row to `db` (committed with the change it describes)."""
    event = AuditEvent(
        user_id=user_id,
        actor=actor,
        actor_id=actor_id,
        action=action,
        field=field,
        old_value=mask(old),
        new_value=mask(new),
        ip=ip,
    )
    db.add(event)
    return event
