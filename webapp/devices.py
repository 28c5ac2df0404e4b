"""Where a person signed in from, told without telling too much: devices and networks.

Used by the sign-in history and by the session registry alike, so the two reduce addresses
the same way, on the same schedule, with the same code.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Column, Table, bindparam, select, update
from sqlmodel import Session

#: Rows reduced per statement by the purge.
PURGE_BATCH = 1000


def reduce_ip(ip: str | None) -> str | None:
    """The network an address belongs to: IPv4 /24, IPv6 /48; None when it is no address."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network((address, prefix), strict=False))


def network_of(ip: str | None) -> str | None:
    """The network of a full address, or the network itself once an address was reduced."""
    if ip and "/" in ip:
        return ip
    return reduce_ip(ip)


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


def reduce_addresses(db: Session, table: Table, since: Column, before: datetime) -> int:
    """Reduce the full `ip` of every row of `table` whose `since` is at or before `before`.

    The table has a sealed `ip` and an `ip_reduced` flag; rows go in batches (sealing is done
    in Python, so the network is computed row by row). Returns how many rows were reduced.
    """
    write = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(ip=bindparam("network", type_=table.c.ip.type), ip_reduced=True)
    )
    reduced, last_id = 0, 0
    while True:
        batch = db.execute(
            select(table.c.id, table.c.ip)
            .where(table.c.ip_reduced.is_(False), since <= before, table.c.id > last_id)
            .order_by(table.c.id)
            .limit(PURGE_BATCH)
        ).all()
        if not batch:
            return reduced
        db.execute(write, [{"row_id": row.id, "network": reduce_ip(row.ip)} for row in batch])
        reduced += len(batch)
        last_id = batch[-1].id
