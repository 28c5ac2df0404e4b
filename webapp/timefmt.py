"""Times as people read them: in their own time zone, with the zone shown.

Every page and email that shows a moment goes through here: the Jinja filters `datetime` and
`date`, and `local(dt, zone)` / `moment(dt, zone)` for Python code (emails composed outside a
page, flash messages). Stored times stay timezone-aware UTC; only what people see is local.

The zone is, in order: a `time_zone` in the template's context (emails set the recipient's),
the signed-in person's preference, else `DEFAULT_ZONE` (signed-out pages).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Flask, g, has_request_context
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context

DEFAULT_ZONE = "Pacific/Auckland"
#: Longest IANA name stored (the column's width).
MAX_ZONE_LENGTH = 64


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted (the choices on the profile)."""
    return tuple(sorted(n for n in available_timezones() if "/" in n or n == "UTC"))


def is_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone people may choose."""
    return name in _zone_set()


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(zone_names())


def zone_info(name: str | None) -> ZoneInfo:
    """The zone called `name`; the default for an empty, erased or unknown name."""
    if name and is_zone(name):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):  # listed but its file went away
            pass
    return ZoneInfo(DEFAULT_ZONE)


def zone_of(user: object | None) -> str:
    """The zone a person sees times in: their preference, else the default."""
    name = getattr(user, "time_zone", None) or ""
    return name if is_zone(name) else DEFAULT_ZONE


def local(dt: datetime, zone: str | None) -> datetime:
    """`dt` (aware; a naive value is taken as UTC) as a wall-clock time in `zone`."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(zone_info(zone))


def zone_label(dt: datetime) -> str:
    """The zone of a local time as people read it: NZDT, AEST, UTC, or UTC+04 where no letters."""
    name = dt.tzname() or ""
    if name[:1] in "+-" and name:
        return f"UTC{name}"
    return name or "UTC"


def moment(dt: datetime | None, zone: str | None) -> str:
    """A moment in `zone`, zone shown: 5 March 2026, 14:03 NZDT."""
    if dt is None:
        return ""
    here = local(dt, zone)
    return f"{here.day} {here:%B %Y, %H:%M} {zone_label(here)}"


def day(value: date | datetime | None, zone: str | None) -> str:
    """A day as people read it (5 March 2026); a moment first becomes the day it is in `zone`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value, zone).date()
    return f"{value.day} {value:%B %Y}"


def zone_in_context(context: Context | None = None) -> str:
    """The zone a template shows times in (see the module docstring for the order)."""
    if context is not None:
        given = context.get("time_zone")
        if given:
            return given if is_zone(given) else DEFAULT_ZONE
    if not has_request_context():
        return DEFAULT_ZONE
    zone = g.get("reader_zone")  # once a request: a page shows several times
    if zone is None:
        zone = g.reader_zone = zone_of(current_user) if current_user.is_authenticated else ""
    return zone or DEFAULT_ZONE


@pass_context
def datetime_filter(context: Context, value: datetime | None) -> str:
    """Jinja `| datetime`: the moment in the reader's zone, zone shown."""
    return moment(value, zone_in_context(context))


@pass_context
def date_filter(context: Context, value: date | datetime | None) -> str:
    """Jinja `| date`: the day, in the reader's zone for a moment."""
    return day(value, zone_in_context(context))


def init_app(app: Flask) -> None:
    """Register the Jinja filters `date` and `datetime`."""
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.filters["datetime"] = datetime_filter
