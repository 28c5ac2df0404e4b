"""The populated site the route walkers and `make screenshots` open really is populated."""

from __future__ import annotations

from sqlalchemy import func, select

from tests import routes
from webapp.models import metadata, user_linked_tables


def _count(app, table, **where) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with app.extensions["sentro.engine"].connect() as connection:
        return connection.execute(query).scalar_one()


def test_the_person_has_data_in_every_table_about_a_person(site):
    app, populated = site
    empty = [
        table.name
        for table in user_linked_tables()
        if not _count(
            app, table, **{"id" if table.name == "user" else "user_id": populated.person_id}
        )
    ]
    assert not empty


def test_staff_queues_have_rows_and_two_policy_versions_are_published(site):
    app, _ = site
    assert _count(app, metadata.tables["closure_request"]) >= 4
    assert _count(app, metadata.tables["inquiry"]) >= 5
    assert _count(app, metadata.tables["policy_version"]) == 2


def test_every_get_route_with_variables_is_filled_or_declared(site):
    _, populated = site
    for rule in routes.rules():
        if "GET" in routes.methods(rule) and rule.arguments:
            assert (
                rule.endpoint in populated.values
                or all(c == "any" for c, _ in routes.params(rule))
                or rule.endpoint in routes.UNWALKED
            ), f"{rule.endpoint}: fill it in tests/populate.py or declare it in routes.UNWALKED"
