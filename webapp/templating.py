"""Template filters and globals shared by every page."""

from __future__ import annotations

from datetime import date as Date

from flask import Flask

from . import timefmt


def date(value: Date | None) -> str:
    """A calendar date as people read it: 5 March 2026 (moments go through `webapp.timefmt`)."""
    return timefmt.day(value, None)


def init_app(app: Flask) -> None:
    """Register the filters: `date` and `datetime` show times in the reader's zone."""
    timefmt.init_app(app)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
