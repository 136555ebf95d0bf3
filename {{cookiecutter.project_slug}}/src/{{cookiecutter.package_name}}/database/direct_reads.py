"""Reads of one row that need no transaction, run straight on the database driver.

A single SELECT through a session costs several times the SELECT itself: the session
and the ORM's result machinery, and around the statement a BEGIN and a ROLLBACK round
trip on PostgreSQL or five hops to aiosqlite's thread on SQLite (bench/RESULTS.md has
the figures). ``DirectReads`` compiles a SQLAlchemy select once for the engine's
dialect, passes its parameters and columns through their types' own conversions (a
UUID or a UTC timestamp comes back as the ORM gives it), and runs it on a pooled
connection's driver: one round trip (an asyncpg prepared statement, outside any
transaction) or one hop to aiosqlite's thread.

It is for hot reads by key. A write, or a read of several statements that must agree
with each other, takes a session (``session.py``). A connection found dropped (the
database restarted) is thrown away and the read run again on another; a database that
cannot be reached is a 503, as everywhere else.
"""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

{% if cookiecutter.database == "postgresql" %}
import asyncpg
{% endif %}
import structlog
from sqlalchemy import Select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from {{ cookiecutter.package_name }}.core.errors import ServiceUnavailableError
from {{ cookiecutter.package_name }}.database.session import UNAVAILABLE

logger = structlog.get_logger(__name__)

Processor = Callable[[Any], Any] | None
Row = tuple[Any, ...]
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # Each positional parameter: the caller's value of that name, or (None) the value
    # written in the statement; and its type's conversion.
    parameters: tuple[tuple[str | None, Any, Processor], ...]
    columns: tuple[Processor, ...]


def _compile(statement: AnySelect, engine: AsyncEngine) -> _Compiled:
    dialect = engine.dialect
    compiled = statement.compile(dialect=dialect)
    binds = {name: bind for bind, name in compiled.bind_names.items()}
    if any(bind.expanding for bind in binds.values()):
        msg = "DirectReads runs statements with one value per parameter (no IN lists)."
        raise ValueError(msg)
    parameters = tuple(
        (
            name if binds[name].required else None,
            binds[name].effective_value,
            binds[name].type.dialect_impl(dialect).bind_processor(dialect),
        )
        for name in compiled.positiontup or ()
    )
    columns = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in statement.selected_columns
    )
    return _Compiled(compiled.string, parameters, columns)


class DirectReads:
    """Runs module-level select statements (each compiled once, on first use)."""

    def __init__(
        self, engine: AsyncEngine, *, attempts: int, connection: AsyncConnection | None = None
    ) -> None:
        """``attempts``: how many connections a read may find dropped, plus one; after a
        restart every idle connection in the pool is, so the pool's size plus one.
        ``connection``: read on it instead of the pool's (a test's, inside its transaction).
        """
        self._engine = engine
        self._attempts = attempts
        self._connection = connection
        self._sqlite = engine.dialect.name == "sqlite"
        self._compiled: dict[AnySelect, _Compiled] = {}
{% if cookiecutter.database == "postgresql" %}
        self._lost: tuple[type[Exception], ...] = (
            (OSError, engine.dialect.loaded_dbapi.OperationalError)
            if self._sqlite
            else (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError)
        )
{% else %}
        self._lost: tuple[type[Exception], ...] = (
            OSError,
            engine.dialect.loaded_dbapi.OperationalError,
        )
{% endif %}
        self._unreachable = (SQLAlchemyError, *self._lost)

    async def one(self, statement: AnySelect, **values: Any) -> Row | None:
        """The statement's one row (or its first), its columns converted; None if none."""
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = _compile(statement, self._engine)
        parameters = [
            value if convert is None else convert(value)
            for name, fixed, convert in compiled.parameters
            for value in (fixed if name is None else values[name],)
        ]
        raw = await self._fetch(compiled.sql, parameters)
        if raw is None:
            return None
        return tuple(
            value if convert is None else convert(value)
            for value, convert in zip(raw, compiled.columns, strict=True)
        )

    async def _fetch(self, sql: str, parameters: list[Any]) -> Sequence[Any] | None:
        if self._connection is not None:
            joined = await self._connection.get_raw_connection()
            return await self._fetch_on(joined, sql, parameters)
        attempts_left = self._attempts
        while True:
            connection = await self._checkout()
            try:
                return await self._fetch_on(connection, sql, parameters)
            except self._lost as exc:
                connection.invalidate(exc)
                attempts_left -= 1
                if not attempts_left or self._sqlite:
                    logger.warning("database_failed", error=repr(exc))
                    raise ServiceUnavailableError(UNAVAILABLE) from exc
                logger.info("database_reconnecting", error=repr(exc))
            except asyncio.CancelledError:
                # Cut off mid-statement (the client left, the deadline passed): the
                # connection's state is unknown, so it goes rather than back to the pool.
                connection.invalidate()
                raise
            finally:
                # The pool may close a connection it takes back, which awaits the driver.
                await greenlet_spawn(connection.close)

    async def _fetch_on(
        self, connection: PoolProxiedConnection, sql: str, parameters: list[Any]
    ) -> Sequence[Any] | None:
        driver: Any = connection.driver_connection
        if self._sqlite:
            rows = await driver.execute_fetchall(sql, parameters)
            return cast(Sequence[Any], rows[0]) if rows else None
        return cast(Sequence[Any] | None, await driver.fetchrow(sql, *parameters))

    async def _checkout(self) -> PoolProxiedConnection:
        try:
            return await self._engine.raw_connection()
        except self._unreachable as exc:
            logger.warning("database_unreachable", error=repr(exc))
            raise ServiceUnavailableError(UNAVAILABLE) from exc
