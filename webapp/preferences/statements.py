"""The statements that change a subscription, built once per database dialect.

A change is conditional (only an open account, only a real change) and returns the row it
changed; its history row and its audit row are written only for a row it returned. On
PostgreSQL the three are one statement (data-modifying WITH clauses): atomic on their own, so
the one-click unsubscribe runs in autocommit, one round trip. SQLite runs them one by one in
a transaction.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Boolean, Insert, Select, Update, bindparam, exists, insert, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from ..models import AuditEvent, Subscription, SubscriptionChange, User

users = User.__table__  # type: ignore[attr-defined]
subs = Subscription.__table__  # type: ignore[attr-defined]
changes = SubscriptionChange.__table__  # type: ignore[attr-defined]
audits = AuditEvent.__table__  # type: ignore[attr-defined]

#: The parameters a change is run with (see `service._values`); typed, as a SELECT's columns
#: need them to be.
UID = bindparam("uid", type_=users.c.id.type)
LID = bindparam("lid", type_=subs.c.list_id.type)
NEW_STATE = bindparam("new_state", type_=Boolean())
NOW = bindparam("now", type_=changes.c.at.type)
HOW = bindparam("how", type_=subs.c.changed_via.type)

#: The history row of a change: column -> value.
HISTORY: dict[str, Any] = {
    "user_id": UID,
    "list_id": LID,
    "subscribed": NEW_STATE,
    "at": NOW,
    "via": HOW,
}
#: The row `audit.record` would add; values are not recorded, so there is nothing to mask.
#: (Parameters are not named like audit_event's columns, which an INSERT reserves.)
AUDIT: dict[str, Any] = {
    "user_id": UID,
    "at": NOW,
    "actor": bindparam("by", type_=audits.c.actor.type),
    "actor_id": bindparam("by_id", type_=audits.c.actor_id.type),
    "action": bindparam("what", type_=audits.c.action.type),
    "field": LID,
    "old_value": literal(""),
    "new_value": literal(""),
    "ip": bindparam("from_ip", type_=audits.c.ip.type),
}
RECORD_CHANGE = insert(changes).values(HISTORY)
RECORD_AUDIT = insert(audits).values(AUDIT)
STATUS = select(users.c.status).where(users.c.id == UID)


def _change_statements(dialect: str) -> tuple[Update, Insert]:
    """(back to the default, away from it): built once, run with bound values."""
    open_account = select(users.c.id).where(users.c.id == UID, users.c.status == "active")
    to_default = (
        update(subs)
        .where(
            subs.c.user_id == UID,
            subs.c.list_id == LID,
            subs.c.subscribed != NEW_STATE,
            subs.c.user_id.in_(open_account),
        )
        .values(subscribed=NEW_STATE, changed_at=NOW, changed_via=HOW)
        .returning(subs.c.id)
    )
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(subs)
    chosen = upsert.from_select(
        ["user_id", "list_id", "subscribed", "changed_at", "changed_via"],
        select(users.c.id, LID, NEW_STATE, NOW, HOW).where(
            users.c.id == UID, users.c.status == "active"
        ),
    )
    away_from_default = chosen.on_conflict_do_update(
        index_elements=[subs.c.user_id, subs.c.list_id],
        set_={
            "subscribed": chosen.excluded.subscribed,
            "changed_at": chosen.excluded.changed_at,
            "changed_via": chosen.excluded.changed_via,
        },
        where=subs.c.subscribed != chosen.excluded.subscribed,
    ).returning(subs.c.id)
    return to_default, away_from_default


def _in_one_statement(change: Update | Insert) -> Select:
    """PostgreSQL: the change, its history row and its audit row as one statement.

    Data-modifying WITH clauses run once, atomically, in one snapshot: the history and audit
    rows are inserted only for a row the change returned, as the separate statements do, and
    the answer says whether it changed and the account's status (for the unchanged case).
    """
    changed = change.cte("changed")

    def recorded(table: Any, row: dict[str, Any], name: str) -> Any:
        return (
            insert(table)
            .from_select(list(row), select(*row.values()).select_from(changed))
            .cte(name)
        )

    return select(
        exists(select(changed.c.id)).label("changed"),
        STATUS.scalar_subquery().label("status"),
    ).add_cte(recorded(changes, HISTORY, "history"), recorded(audits, AUDIT, "audit"), changed)


class Statements(NamedTuple):
    """One dialect's statements for a change: to the default, away from it, each as one."""

    to_default: Update
    away_from_default: Insert
    to_default_at_once: Select | None
    away_from_default_at_once: Select | None


_statements: dict[str, Statements] = {}


def statements_for(dialect: str) -> Statements:
    """The statements for `dialect`, built on first use."""
    if dialect not in _statements:
        to_default, away = _change_statements(dialect)
        at_once = dialect == "postgresql"
        _statements[dialect] = Statements(
            to_default,
            away,
            _in_one_statement(to_default) if at_once else None,
            _in_one_statement(away) if at_once else None,
        )
    return _statements[dialect]
