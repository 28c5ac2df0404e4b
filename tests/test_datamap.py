"""The data map: every table about a person says how each personal column is handled."""

import pytest

from webapp.models import RETAIN, metadata, personal_columns, privacy_of, user_linked_tables


@pytest.mark.parametrize("table", user_linked_tables(), ids=lambda t: t.name)
def test_every_user_linked_table_declares_its_privacy_handling(table):
    category = privacy_of(table)
    assert category is not None, f"{table.name} holds data about a person but has no DataCategory"
    assert category.purpose, f"{table.name} must say why it is held"
    assert category.owner in table.columns, f"{table.name}: owner column {category.owner} missing"
    assert personal_columns(table), f"{table.name} declares no personal column"


@pytest.mark.parametrize("table", user_linked_tables(), ids=lambda t: t.name)
def test_retained_columns_say_why_and_for_how_long(table):
    for name, declaration in personal_columns(table).items():
        if declaration.on_closure is RETAIN:
            assert declaration.retention.basis, f"{table.name}.{name} retained without a basis"
            assert declaration.retention.days > 0


def test_the_check_finds_an_undeclared_table():
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table

    scratch = MetaData()
    Table("user", scratch, Column("id", Integer, primary_key=True))
    loose = Table("loose", scratch, Column("user_id", Integer, ForeignKey("user.id")))
    assert privacy_of(loose) is None


def test_migrations_match_the_models(app):
    """The Alembic migrations build exactly the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.extensions["sentro.engine"].connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
