"""Time: timezone-aware UTC everywhere (SQLModel refuses naive datetimes)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)
