"""IP addresses: one retention rule for every column the data map declares as an address.

A column declared ``personal(..., ip=IpAddress(...))`` keeps its address in full for
SIGNIN_IP_FULL_DAYS after the row's time, then holds only its network (IPv4 /24, IPv6 /48);
after SIGNIN_RETENTION_DAYS the address goes (or its whole row, when the declaration says so).
`privacy purge` applies this to every such column, with no code per table: a table added
later is covered by declaring its column. Rows a retention hold keeps after a closure stay as
they are until the hold ends (then the closure's own purge removes them). Addresses are sealed at rest
(`webapp.crypto.Sealed`) before and after the reduction.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Table, bindparam, delete, select, update
from sqlmodel import Session

from .models import ClosureRequest, IpAddress, metadata, personal_columns
from .retention import purge_step

#: Rows reduced per statement by the purge.
PURGE_BATCH = 1000


@dataclass(frozen=True)
class IpPolicy:
    """How long an address is kept in full, and how long it is kept at all."""

    full_days: int = 30
    retention_days: int = 365

    def __post_init__(self) -> None:
        if not 0 < self.full_days <= self.retention_days:
            raise ValueError(
                "SIGNIN_IP_FULL_DAYS must be positive and within SIGNIN_RETENTION_DAYS"
            )

    @classmethod
    def from_config(cls, config: Any) -> IpPolicy:
        """The policy the site is configured with."""
        return cls(config["SIGNIN_IP_FULL_DAYS"], config["SIGNIN_RETENTION_DAYS"])

    def reduce_on(self, recorded_at: datetime) -> datetime:
        """When an address recorded at `recorded_at` is reduced to its network."""
        return recorded_at + timedelta(days=self.full_days)

    def delete_on(self, recorded_at: datetime) -> datetime:
        """When an address recorded at `recorded_at` (or its row) is deleted."""
        return recorded_at + timedelta(days=self.retention_days)


def reduce_ip(ip: str | None) -> str | None:
    """The network an address belongs to: IPv4 /24, IPv6 /48; None when it is no address.

    A network already reduced stays as it is, so reducing twice changes nothing.
    """
    if not ip:
        return None
    text = ip.strip()
    try:
        if "/" in text:
            address = ipaddress.ip_network(text, strict=False).network_address
        else:
            address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network((address, prefix), strict=False))


def address_columns() -> list[tuple[Table, str, IpAddress]]:
    """Every (table, column, rule) the data map declares as an IP address."""
    return [
        (table, name, declaration.ip)
        for table in metadata.sorted_tables
        for name, declaration in personal_columns(table).items()
        if declaration.ip is not None
    ]


def held_rows(db: Session, now: datetime) -> dict[tuple[str, str], set[Any]]:
    """Rows a closed account's retention hold still keeps, by (table, column).

    A hold keeps what it names, as it was, until its date; the closure's purge then removes it.
    """
    held: dict[tuple[str, str], set[Any]] = {}
    today = now.date().isoformat()
    query = select(ClosureRequest.retained_items).where(ClosureRequest.status == "completed")
    for items in db.execute(query).scalars():
        for item in items:
            if not item.get("purged_on") and item["until"] >= today:
                held.setdefault((item["table"], item["column"]), set()).update(item["rows"])
    return held


def purge_addresses(db: Session, now: datetime, policy: IpPolicy) -> str:
    """Reduce full addresses past the full period and remove them past retention (not committed)."""
    reports = []
    held = held_rows(db, now)
    for table, column, rule in address_columns():
        (pk,) = table.primary_key.columns
        kept = set().union(*(held.get((table.name, c.name), set()) for c in table.columns))
        unheld = [pk.not_in(sorted(kept))] if kept else []
        cutoff = now - timedelta(days=policy.retention_days)
        removed = _remove_expired(db, table, column, rule, cutoff, unheld)
        reduced = _reduce(db, table, column, rule, now - timedelta(days=policy.full_days), unheld)
        gone = "rows deleted" if rule.delete_row else "addresses removed"
        reports.append(f"{table.name}.{column}: {removed} {gone}, {reduced} reduced")
    return "; ".join(reports)


def _remove_expired(
    db: Session, table: Table, column: str, rule: IpAddress, cutoff: datetime, unheld: list
) -> int:
    recorded_at = table.c[rule.recorded_at]
    if rule.delete_row:
        return db.execute(delete(table).where(recorded_at <= cutoff, *unheld)).rowcount
    values: dict[str, Any] = {column: None}
    if rule.reduced is not None:
        values[rule.reduced] = True
    statement = update(table).where(recorded_at <= cutoff, table.c[column].is_not(None), *unheld)
    return db.execute(statement.values(**values)).rowcount


def _reduce(
    db: Session, table: Table, column: str, rule: IpAddress, before: datetime, unheld: list
) -> int:
    """Replace each full address recorded before `before` by its network, in batches."""
    (pk,) = table.primary_key.columns
    address = table.c[column]
    values: dict[str, Any] = {column: bindparam("network", type_=address.type)}
    due = [table.c[rule.recorded_at] <= before, address.is_not(None), *unheld]
    if rule.reduced is not None:
        values[rule.reduced] = True
        due.append(table.c[rule.reduced].is_(False))
    write = update(table).where(pk == bindparam("row_key")).values(**values)
    reduced, last_key = 0, None
    while True:
        query = select(pk, address).where(*due).order_by(pk).limit(PURGE_BATCH)
        if last_key is not None:
            query = query.where(pk > last_key)
        batch = db.execute(query).all()
        if not batch:
            return reduced
        changes = [
            {"row_key": key, "network": reduce_ip(ip)}
            for key, ip in batch
            if rule.reduced is not None or reduce_ip(ip) != ip
        ]
        if changes:
            db.execute(write, changes)
        reduced += len(changes)
        last_key = batch[-1][0]


@purge_step("IP addresses")
def _purge(db: Session, now: datetime) -> str:
    return purge_addresses(db, now, IpPolicy.from_config(current_app.config))
