"""What device a person signed in from, told without telling too much.

Used by the sign-in history, the session registry and the new-sign-in alert alike. Networks
(reduced addresses) come from `webapp.addresses`, the site's one rule for IP addresses.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=2048)
def device_summary(user_agent: str) -> str:
    """A readable summary of a browser's user agent: "Firefox 120 on Windows 10"."""
    from ua_parser import parse

    if not user_agent.strip():
        return "Unknown device"
    result = parse(user_agent)
    parts = []
    if result.user_agent and result.user_agent.family != "Other":
        parts.append(_named(result.user_agent.family, result.user_agent.major))
    if result.os and result.os.family != "Other":
        parts.append(("on " if parts else "") + _named(result.os.family, result.os.major))
    if result.device and result.device.family not in {"Other", "Generic Smartphone"}:
        parts.append(f"({result.device.family})")
    return " ".join(parts) or "Unknown device"


def _named(family: str, major: str | None) -> str:
    return f"{family} {major}" if major else family
