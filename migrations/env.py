"""Alembic environment: the target schema is the data map in `webapp.models`."""

from alembic import context
from sqlalchemy import create_engine, pool

from webapp.models import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.begin() as connection:
        _run(connection)


def _without_info(migration_context, revision, directives) -> None:
    """The data map lives in the models; migrations need only the schema."""
    for directive in directives:
        for op in (getattr(directive, "upgrade_ops", None) and directive.upgrade_ops.ops) or []:
            if hasattr(op, "info"):
                op.info = {}


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        process_revision_directives=_without_info,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
