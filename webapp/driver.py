"""The request path's own statements, compiled once and run on the pooled driver connection.

The few statements every signed-in page runs (the person with their session, a page's own
summary) and a few short writes that must be fast (the one-click unsubscribe, a profile
save) are the same on every request but for their parameters. SQLAlchemy's execution layer
(an execution context, result metadata, events) costs several times what the driver does for
them. `fetch` (reads) and `plain_connection` (a short write) keep what that layer gives and
nothing else:

- a statement is compiled once per dialect, IN lists of literals expanded once; parameters
  and results go through the column types' own converters, so values arrive and are stored
  exactly as through `Connection.execute` (timezone-aware datetimes, sealed values), and an
  INSERT's constant Python-side column defaults are filled in;
- the connection comes from the engine's pool; reads run outside a transaction (SQLite is in
  autocommit; PostgreSQL is switched to it for the reads), so no BEGIN or ROLLBACK is sent;
  on PostgreSQL several reads go out in one pipeline, one round trip however many statements;
- a driver error is raised as SQLAlchemy's own (`db.DatabaseUnavailable` answers 503), and a
  lost connection invalidates the pool as SQLAlchemy does, so the next request reconnects.

Statement counters (`db.counting_statements`) see these statements like any other. Anything
longer or less regular goes through the ORM session or a Core connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import exc, inspect
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql import Executable, Select


@dataclass(frozen=True)
class Compiled:
    """One statement for one dialect: its SQL, parameter order and value converters."""

    sql: str
    defaults: Mapping[str, Any]  #: the statement's own literal values (IN lists and the like)
    order: tuple[str, ...] | None  #: parameter names in order for positional drivers (SQLite)
    binds: Mapping[str, Callable[[Any], Any]]  #: parameter name -> converter, where one is needed
    results: tuple[Callable[[Any], Any] | None, ...]  #: one per column

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters for `values` (over the statement's own literals)."""
        merged = {**self.defaults, **values}
        for name, convert in self.binds.items():
            merged[name] = convert(merged[name])
        return tuple(merged[name] for name in self.order) if self.order is not None else merged

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        """A driver row with each value converted as its column's type does."""
        return tuple(v if f is None else f(v) for f, v in zip(self.results, raw, strict=True))


@cache
def compiled(statement: Executable, dialect: Dialect) -> Compiled:
    """`statement` compiled for `dialect`, once (statements here are module constants)."""
    done = statement.compile(dialect=dialect)
    # IN lists of literals are expanded once here; the parameters each call gives are None
    # for now (only the statement's own literal values are kept as defaults).
    given = {name for name, bind in done.binds.items() if bind.required}
    state = done.construct_expanded_state({name: None for name in given})
    defaults = {k: v for k, v in state.parameters.items() if k not in given}
    for column in done.insert_prefetch:  # an INSERT's Python-side column defaults
        if not (column.default is not None and column.default.is_scalar):
            raise ValueError(f"{column}: a default computed per row needs Connection.execute")
        defaults[column.key] = column.default.arg
    if done.update_prefetch:
        raise ValueError("an UPDATE with Python-side onupdate values needs Connection.execute")
    binds = {}  # each parameter's converter from its type (a sealed value is sealed here)
    for name, bind in done.binds.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        for expanded in state.parameter_expansion.get(name, [name]) if convert else ():
            binds[expanded] = convert
    columns = getattr(statement, "selected_columns", None)
    if columns is None:  # INSERT, UPDATE, DELETE: their RETURNING columns, if any
        columns = statement.exported_columns
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    order = tuple(state.positiontup or ()) if done.positional else None
    return Compiled(state.statement, defaults, order, binds, results)


#: pool -> callbacks that see each statement `fetch` runs on it (`db.counting_statements`).
observers: dict[Any, list[Callable[[str], None]]] = {}


@contextmanager
def observed(engine: Engine, callback: Callable[[str], None]) -> Iterator[None]:
    """Within the block, `callback` sees the SQL of every read `fetch` runs on `engine`'s pool."""
    watching = observers.setdefault(engine.pool, [])
    watching.append(callback)
    try:
        yield
    finally:
        watching.remove(callback)
        if not watching:
            del observers[engine.pool]


def fetch(engine: Engine, *reads: tuple[Select, Mapping[str, Any]]) -> list[list[tuple]]:
    """Each (statement, parameters)'s rows, read in one round trip on PostgreSQL."""
    dialect = engine.dialect
    plans = [(compiled(statement, dialect), params) for statement, params in reads]
    for observe in observers.get(engine.pool, ()):
        for plan, _ in plans:
            observe(plan.sql)
    raw = None
    try:
        raw = engine.raw_connection()
        driver = raw.driver_connection
        if dialect.name == "postgresql":
            return _pipelined(driver, plans)
        return [_one(driver, plan, params) for plan, params in plans]
    except dialect.loaded_dbapi.Error as error:
        raise _translated(engine, raw, plans, error) from error
    finally:
        if raw is not None:
            raw.close()


def _one(driver: Any, plan: Compiled, params: Mapping[str, Any]) -> list[tuple]:
    cursor = driver.cursor()
    try:
        cursor.execute(plan.sql, plan.parameters(params))
        if cursor.description is None:  # a write without RETURNING
            return []
        return [plan.row(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


def _pipelined(driver: Any, plans: list[tuple[Compiled, Mapping[str, Any]]]) -> list[list[tuple]]:
    driver.autocommit = True  # reads need no transaction: no BEGIN, no ROLLBACK
    try:
        if len(plans) == 1:
            return [_one(driver, *plans[0])]
        cursors = []
        with driver.pipeline():
            for plan, params in plans:
                cursor = driver.cursor()
                cursor.execute(plan.sql, plan.parameters(params))
                cursors.append(cursor)
        found = [
            [plan.row(r) for r in cursor.fetchall()]
            for (plan, _), cursor in zip(plans, cursors, strict=True)
        ]
        for cursor in cursors:
            cursor.close()
        return found
    finally:
        if not driver.closed:
            driver.autocommit = False  # the pool's next borrower may be a writer


def _translated(engine: Engine, raw: Any, plans: list, error: Exception) -> exc.DBAPIError:
    """The driver's error as SQLAlchemy raises it; a lost connection invalidates the pool."""
    dialect = engine.dialect
    driver = raw.driver_connection if raw is not None else None
    disconnected = driver is None or dialect.is_disconnect(error, driver, None)
    if raw is not None and disconnected:
        engine.pool._invalidate(raw, error)  # as Connection does: every older connection goes
    return exc.DBAPIError.instance(
        plans[0][0].sql if plans else "",
        None,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        dialect=dialect,
        connection_invalidated=disconnected,
    )


def detached(model: type, columns: Any, values: Sequence[Any]) -> Any:
    """An instance of `model` holding a row's `values` of `columns`, as if loaded and then
    detached: `db.adopt` puts it in the request's ORM session; a column not read loads on use."""
    keys = _attribute_keys(model, tuple(columns))
    instance = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(zip(keys, values, strict=True))
    make_transient_to_detached(instance)
    return instance


def entities(model: type, rows: Sequence[Sequence[Any]]) -> list[Any]:
    """Rows of `select(*model.__table__.c)` as detached instances of `model` (see `detached`)."""
    columns = model.__table__.c  # type: ignore[attr-defined]
    return [detached(model, columns, row) for row in rows]


@cache
def _attribute_keys(model: type, columns: tuple) -> tuple[str, ...]:
    mapper = inspect(model)
    return tuple(mapper.get_property_by_column(c).key for c in columns)


class Rows(list):
    """A statement's rows, answering the few `Result` questions the write paths ask."""

    def one(self) -> tuple:
        """The only row (the statement is known to return exactly one)."""
        (row,) = self
        return row

    def first(self) -> tuple | None:
        """The first row, or None."""
        return self[0] if self else None

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self[0][0] if self else None


class Plain:
    """What a short write needs of a `Connection` (`execute`, `commit`, `rollback`), run at
    the driver level like `fetch`. On SQLite the first statement begins the transaction
    (BEGIN IMMEDIATE: the write lock at once). On PostgreSQL, with `transaction` the driver
    begins one before the first statement; without, every statement runs in autocommit, its
    own transaction, for a change written as one statement."""

    def __init__(self, engine: Engine, raw: Any, *, transaction: bool) -> None:
        self.engine, self.dialect, self._raw = engine, engine.dialect, raw
        self._driver = raw.driver_connection
        self._sqlite = self.dialect.name == "sqlite"
        self._transaction = transaction or self._sqlite

    def execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> Rows:
        """The statement's rows (its RETURNING rows for a write); a list of parameter sets
        runs it once for each (no rows back)."""
        plan = compiled(statement, self.dialect)
        for observe in observers.get(self.engine.pool, ()):
            observe(plan.sql)
        try:
            if self._sqlite and not self._driver.in_transaction:
                self._driver.execute("BEGIN IMMEDIATE")
            if isinstance(parameters, Sequence):
                cursor = self._driver.cursor()
                cursor.executemany(plan.sql, [plan.parameters(p) for p in parameters])
                cursor.close()
                return Rows()
            return Rows(_one(self._driver, plan, parameters or {}))
        except self.dialect.loaded_dbapi.Error as error:
            raise _translated(self.engine, self._raw, [(plan, parameters)], error) from error

    def commit(self) -> None:
        """Make this transaction's writes stand (in autocommit they already do)."""
        self._end("COMMIT")

    def rollback(self) -> None:
        """Undo this transaction's writes (none to undo in autocommit)."""
        self._end("ROLLBACK")

    def _end(self, how: str) -> None:
        if not self._transaction or (not self._sqlite and self._driver.closed):
            return
        try:
            if self._sqlite:
                if self._driver.in_transaction:
                    self._driver.execute(how)
            elif how == "COMMIT":
                self._driver.commit()
            else:
                self._driver.rollback()
        except self.dialect.loaded_dbapi.Error as error:
            raise _translated(self.engine, self._raw, [], error) from error


@contextmanager
def plain_connection(engine: Engine, *, transaction: bool = False) -> Iterator[Plain]:
    """A `Plain` on a pooled connection; what is not committed at the end is rolled back.

    `transaction`: on PostgreSQL, run the statements in one transaction (SQLite always does).
    """
    raw = None
    postgres = engine.dialect.name == "postgresql"
    try:
        raw = engine.raw_connection()
        if postgres and not transaction:
            raw.driver_connection.autocommit = True
        plain = Plain(engine, raw, transaction=transaction)
        try:
            yield plain
        finally:
            plain.rollback()
    except engine.dialect.loaded_dbapi.Error as error:
        raise _translated(engine, raw, [], error) from error
    finally:
        if raw is not None:
            driver = raw.driver_connection  # None once a lost connection invalidated it
            if postgres and driver is not None and not driver.closed:
                driver.autocommit = False
            raw.close()
