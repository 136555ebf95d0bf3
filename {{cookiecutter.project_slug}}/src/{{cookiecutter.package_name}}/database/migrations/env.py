"""Alembic environment: runs the migrations in ``versions/`` with the service's settings.

The database URL is the service's own (``DATABASE_URL``, or ``.env``), or
``config.attributes["database_url"]`` when the tests drive Alembic. SQLite runs
in batch mode (it cannot alter most of a table in place) and with its default of
foreign keys off: batch mode recreates tables, which would otherwise cascade deletes.
"""

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.logging import configure_logging
{% if cookiecutter.rag == "yes" %}
from {{ cookiecutter.package_name }}.database.chunk_index import TABLE_PREFIX
{% endif %}
{% if cookiecutter.rag == "yes" and cookiecutter.database == "sqlite" %}
from {{ cookiecutter.package_name }}.database.chunk_index_sqlite import sqlite_driver
{% endif %}
from {{ cookiecutter.package_name }}.database.models import Base, UtcDateTime

config = context.config


def render_item(kind: str, obj: Any, _: AutogenContext) -> str | Literal[False]:
    """Write our UTC timestamps as plain SQLAlchemy types: migrations import none of our code."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


{% if cookiecutter.rag == "yes" %}
def include_name(name: str | None, type_: str, _: Any) -> bool:
    """Compare every table but the chunk index's, which no model describes."""
    return not (type_ == "table" and name is not None and name.startswith(TABLE_PREFIX))


{% endif %}
def configure(**options: Any) -> None:
    context.configure(
        target_metadata=Base.metadata,
        render_item=render_item,
{% if cookiecutter.rag == "yes" %}
        include_name=include_name,
{% endif %}
        compare_type=True,
        **options,
    )


def run_migrations(connection: Connection) -> None:
    configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def run_online(database_url: str) -> None:
{% if cookiecutter.rag == "yes" and cookiecutter.database == "sqlite" %}
    # sqlite-vec in every connection: migration 0006_rag makes its table.
    options = sqlite_driver(database_url, timeout=5.0) if database_url.startswith("sqlite") else {}
    engine = create_async_engine(database_url, poolclass=NullPool, **options)
{% else %}
    engine = create_async_engine(database_url, poolclass=NullPool)
{% endif %}
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def run_offline(database_url: str) -> None:
    """Write the SQL to standard output instead of running it (``alembic upgrade --sql``)."""
    configure(
        url=database_url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=database_url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    database_url: str | None = config.attributes.get("database_url")
{% if cookiecutter.rag == "yes" %}
    settings = Settings()
    if database_url is None:
        configure_logging(settings)
        database_url = settings.database_url
    # The embeddings' length, which the chunk index is made for (0006_rag).
    config.attributes.setdefault("embedding_dimensions", settings.embedding_dimensions)
{% else %}
    if database_url is None:
        settings = Settings()
        configure_logging(settings)
        database_url = settings.database_url
{% endif %}
    if context.is_offline_mode():
        run_offline(database_url)
    else:
        asyncio.run(run_online(database_url))


main()
