"""Engine and session factory, created by the application's lifespan (never at import)."""

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.health import HealthCheck
{% if cookiecutter.rag == "yes" and cookiecutter.database == "sqlite" %}
from {{ cookiecutter.package_name }}.database.chunk_index_sqlite import sqlite_driver
{% endif %}
from {{ cookiecutter.package_name }}.database.session import TrackedSession


def _enable_sqlite_pragmas(dbapi_connection: DBAPIConnection, _: Any) -> None:
    """WAL lets readers work beside a writer; SQLite enforces foreign keys only when asked."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    """An engine for ``DATABASE_URL``; it connects lazily, on first use."""
    url = settings.database_url
    # Statement parameters (emails, hashes) stay out of error messages and logs.
    common: dict[str, Any] = {"echo": settings.database_echo, "hide_parameters": True}
    if url.startswith("sqlite"):
        # ``timeout`` is how long a writer waits for another one to finish. The pool does
        # not roll back a connection handed back: its session or connection has ended its
        # transaction already, and each call to SQLite is a hop to aiosqlite's thread.
{% if cookiecutter.rag == "yes" and cookiecutter.database == "sqlite" %}
        driver = sqlite_driver(url, settings.database_connect_timeout)
{% else %}
        driver = {"connect_args": {"timeout": settings.database_connect_timeout}}
{% endif %}
        engine = create_async_engine(url, pool_reset_on_return=None, **driver, **common)
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        # No ping per checkout (a round trip per request): a session runs its first
        # statement once more when it finds the connection dropped (database/session.py).
        connect_args={"timeout": settings.database_connect_timeout},
        **common,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after the commit (responses are built from them).
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TrackedSession)


def database_check(engine: AsyncEngine) -> HealthCheck:
    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return check
