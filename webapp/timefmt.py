"""Times as a person reads them, in their own time zone.

Until people choose a time zone in their preferences, everyone's is New Zealand time, the
zone Sentro's customers live in; `zone_of` is the one place that decides.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_ZONE = ZoneInfo("Pacific/Auckland")


def zone_of(user: object | None) -> ZoneInfo:
    """The time zone to show `user` times in."""
    return DEFAULT_ZONE


def local(moment: datetime, user: object | None = None) -> str:
    """A moment in the person's time zone: 5 March 2026, 14:03 NZDT."""
    shown = moment.astimezone(zone_of(user))
    return f"{shown.day} {shown:%B %Y, %H:%M} {shown.tzname()}"
