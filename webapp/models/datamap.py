"""The vocabulary of the data map: how each table and column about a person is handled.

Every table that holds data about a person sets ``__privacy__ = DataCategory(...)`` and marks
each personal column with ``personal(...)`` in its ``sa_column_kwargs["info"]``. Export,
correction, erasure and retention read these declarations; they are never written per table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class OnClosure(StrEnum):
    """What closing the account does to a column."""

    ERASE = "erase"  #: the value is removed (the row is deleted when the table says so)
    ANONYMISE = "anonymise"  #: replaced by a value that no longer identifies the person
    RETAIN = "retain"  #: kept for a stated legal reason and period, then purged


ERASE, ANONYMISE, RETAIN = OnClosure.ERASE, OnClosure.ANONYMISE, OnClosure.RETAIN


@dataclass(frozen=True)
class Retention:
    """Why and for how long a value outlives the account."""

    basis: str  #: the legal obligation, in words a person understands
    days: int  #: counted from the closure


@dataclass(frozen=True)
class IpAddress:
    """An IP address column, under the site's one rule for addresses (`webapp.addresses`).

    In full for SIGNIN_IP_FULL_DAYS after the row's time, then only its network (IPv4 /24,
    IPv6 /48); after SIGNIN_RETENTION_DAYS the address goes, or the whole row with
    `delete_row`. `privacy purge` applies it to every column declared so.
    """

    recorded_at: str = "at"  #: the column saying when the address was recorded
    #: a boolean column the purge sets once the address is reduced; None: reduce on every run
    reduced: str | None = "ip_reduced"
    delete_row: bool = False  #: past retention the row goes (a sign-in), else only the address


@dataclass(frozen=True)
class Personal:
    """The declaration attached to one personal column."""

    label: str  #: what the value is, for people ("Phone number")
    export: bool = True  #: included in the person's export
    correctable: bool = False  #: the person can correct it themselves
    on_closure: OnClosure = ERASE
    retention: Retention | None = None
    ip: IpAddress | None = None  #: set for an IP address: the one retention rule for addresses

    def __post_init__(self) -> None:
        if (self.on_closure is RETAIN) != (self.retention is not None):
            raise ValueError(f"{self.label}: a retained value needs a Retention, and only it")


@dataclass(frozen=True)
class DataCategory:
    """The declaration attached to a table that holds data about a person."""

    name: str  #: the category people see in their export ("Sign-in history")
    purpose: str  #: why Sentro holds it
    owner: str = "user_id"  #: the column that names the person the row is about
    recipients: tuple[str, ...] = ()  #: who else receives it, beyond Sentro
    retention: str = "Until the account is closed."  #: in words, for the export
    delete_rows_on_closure: bool = True  #: erase by deleting rows, unless a column is retained
    extra: dict[str, Any] = field(default_factory=dict)


def personal(
    label: str,
    *,
    export: bool = True,
    correctable: bool = False,
    on_closure: OnClosure = ERASE,
    retention: Retention | None = None,
    ip: IpAddress | None = None,
) -> dict[str, Personal]:
    """The `info` dict for a personal column: ``sa_column_kwargs={"info": personal(...)}``."""
    return {
        "personal": Personal(
            label,
            export=export,
            correctable=correctable,
            on_closure=on_closure,
            retention=retention,
            ip=ip,
        )
    }


def personal_columns(table: Any) -> dict[str, Personal]:
    """The personal columns of a SQLAlchemy table, by column name."""
    return {c.name: c.info["personal"] for c in table.columns if "personal" in c.info}
