"""Template filters and globals shared by every page."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from .wording import for_staff


def date(value: datetime | None) -> str:
    """A date as people read it: 5 March 2026."""
    return "" if value is None else f"{value.day} {value:%B %Y}"


def datetime_utc(value: datetime | None) -> str:
    """A moment, in UTC: 5 March 2026, 14:03 UTC."""
    return "" if value is None else f"{value.day} {value:%B %Y, %H:%M} UTC"


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.jinja_env.filters["date"] = date
    app.jinja_env.filters["datetime"] = datetime_utc
    app.jinja_env.filters["for_staff"] = for_staff
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
