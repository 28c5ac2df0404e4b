"""IP addresses: every one the site stores, in any table, follows one rule enforced by the purge."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from sqlalchemy import Boolean, select, update

from tests.populate import Populator
from webapp import retention
from webapp.addresses import address_columns
from webapp.closure.erasure import python_type
from webapp.crypto import Sealed
from webapp.models import metadata, personal_columns

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


#: Sealed columns that hold something other than an address, and what.
SEALED_NOT_ADDRESSES = {
    "user_session.id_token": "the provider's ID token, kept only for id_token_hint at sign-out",
}


#: Tables whose rows the purge deletes sooner than any address rule, and why.
SHORTER_LIVED = {
    "user_session": "a session ends within SESSION_MAX_DAYS; the purge then deletes its row",
}


def holds_an_address(column) -> bool:
    """A column that, by its type or name, stores an IP address."""
    if f"{column.table.name}.{column.name}" in SEALED_NOT_ADDRESSES:
        return False
    return isinstance(column.type, Sealed) or column.name == "ip" or column.name.endswith("_ip")


def test_every_column_that_stores_an_address_is_declared_under_the_rule():
    found = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if holds_an_address(column)
        and getattr(personal_columns(table).get(column.name), "ip", None) is None
    ]
    assert found == []
    assert {(t.name, c) for t, c, _ in address_columns()} >= {
        ("sign_in", "ip"),
        ("audit_event", "ip"),
        ("policy_acknowledgement", "ip"),
        ("user_session", "ip"),
    }


@pytest.mark.parametrize("declared", address_columns(), ids=lambda d: f"{d[0].name}.{d[1]}")
def test_each_declaration_names_columns_its_table_has(declared):
    table, _, rule = declared
    assert python_type(table.c[rule.recorded_at]) is dt.datetime
    if rule.reduced is not None:
        assert isinstance(table.c[rule.reduced].type, Boolean)


@pytest.fixture
def addresses_everywhere(app):
    """A row in every table about a person; each declared address a full one, of three ages."""
    engine = app.extensions["sentro.engine"]
    ages = {"fresh": 29, "past the full period": 31, "past retention": 366}
    planted = {}
    with engine.begin() as connection:
        for n, (age, days) in enumerate(ages.items()):
            populator = Populator(connection, NOW, marker=f"zip{n}")
            populator.person()
            for k, (table, column, rule) in enumerate(address_columns()):
                key = populator.rows[table.name]
                address = f"198.51.{100 + n}.{k + 1}"
                (pk,) = table.primary_key.columns
                connection.execute(
                    update(table)
                    .where(pk == key)
                    .values({column: address, rule.recorded_at: NOW - dt.timedelta(days=days)})
                )
                planted[(table.name, column, key)] = (age, address)
    return planted


def test_after_privacy_purge_no_full_address_outlives_the_full_period(
    app, db, addresses_everywhere
):
    with app.app_context():
        reports = dict(retention.run_all(db, NOW))
    assert "audit_event.ip" in reports["IP addresses"]
    engine = app.extensions["sentro.engine"]
    with engine.connect() as connection:
        for (table_name, column, key), (age, address) in addresses_everywhere.items():
            table = metadata.tables[table_name]
            (pk,) = table.primary_key.columns
            row = connection.execute(select(table.c[column]).where(pk == key)).first()
            stored = None if row is None else row[0]
            where = f"{table_name}.{column} ({age})"
            if row is None and table_name in SHORTER_LIVED:
                continue  # the whole row went, sooner than the address rule asks
            if age == "fresh":
                assert stored == address, where
            elif age == "past the full period":
                network = ipaddress.ip_network(stored)
                assert network.prefixlen == 24 and ipaddress.ip_address(address) in network, where
            else:
                assert stored is None, where


def test_an_address_a_retention_hold_keeps_stays_as_it_was_until_the_hold_ends(app, db):
    from webapp.closure import service
    from webapp.models import SignIn, User

    with app.extensions["sentro.engine"].begin() as connection:
        populator = Populator(connection, NOW - dt.timedelta(days=40), marker="ziph")
        person_id = populator.person()
    sign_in = db.get(SignIn, populator.rows["sign_in"])
    sign_in.ip = "192.0.2.55"
    db.add(sign_in)
    staff = User(issuer="https://id.test", subject="s-h", email="sh@sentro.co", is_staff=True)
    db.add(staff)
    db.commit()
    with app.test_request_context():
        assert service.add_hold(
            db,
            populator.rows["closure_request"],
            staff,
            what="sign_in.ip",
            legal_basis="Police production order 2026/55",
            until=(NOW + dt.timedelta(days=500)).date().isoformat(),
            now=NOW,
        ).ok
        assert service.approve(
            db, populator.rows["closure_request"], staff, grace_days=0, now=NOW
        ).ok
    db.rollback()
    with app.app_context():
        retention.run_all(db, NOW + dt.timedelta(days=400))  # past full period and retention
    db.expire_all()
    held = db.get(SignIn, populator.rows["sign_in"])
    assert (held.user_id, held.ip, held.ip_reduced) == (person_id, "192.0.2.55", False)
