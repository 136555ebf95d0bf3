"""Fixtures: the app with its lifespan actually run, and an HTTP client for it."""

{% if cookiecutter.database != "none" or cookiecutter.redis == "yes" %}
import os
{% endif %}
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
{% if cookiecutter.database != "none" %}
from pathlib import Path
{% endif %}
{% if cookiecutter.redis == "yes" %}
from typing import Any
from uuid import uuid4
{% endif %}

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
{% if cookiecutter.database != "none" %}
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
{% endif %}

from {{ cookiecutter.package_name }}.core.config import Environment, Settings
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.database.engine import create_engine, create_session_factory
from {{ cookiecutter.package_name }}.database.models import Base
{% endif %}
from {{ cookiecutter.package_name }}.main import create_app

Serve = Callable[[FastAPI], AbstractAsyncContextManager[AsyncClient]]


@asynccontextmanager
async def _serve(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """Run the app's lifespan and give a client that talks to it in-process."""
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def serve() -> Serve:
    return _serve


@pytest.fixture
{% if cookiecutter.database != "none" %}
def settings(tmp_path: Path) -> Settings:
    """Test settings: SQLite in a temporary folder, or ``TEST_DATABASE_URL`` when set."""
    database_url = os.environ.get(
        "TEST_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    )
{% else %}
def settings() -> Settings:
{% endif %}
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
{% if cookiecutter.database != "none" %}
        database_url=database_url,
{% endif %}
{% if cookiecutter.llm != "none" %}
        llm_providers=["fake"],
{% endif %}
{% if cookiecutter.redis == "yes" %}
        **redis_settings(),
{% endif %}
    )
{% if cookiecutter.redis == "yes" %}


def redis_settings() -> dict[str, Any]:
    """The real Redis (``TEST_REDIS_URL``), with a job queue of this test's own.

    Test runs may share one Redis: every key a test writes is unique to it.
    """
    return {
        "redis_url": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "job_queue_name": f"test:{uuid4().hex}:jobs",
{% if cookiecutter.auth != "none" or cookiecutter.llm != "none" %}
        # Fresh counters for every test; test_rate_limit shares them through Redis.
        "rate_limit_storage_uri": "memory://",
{% endif %}
{% if cookiecutter.llm != "none" %}
        # A cache of this test's own: answers cached by other runs must not leak in.
        "llm_cache_url": "mem://",
{% endif %}
    }
{% endif %}
{% if cookiecutter.database != "none" %}


async def drop_schema(engine: AsyncEngine) -> None:
    """Drop every table, Alembic's too: a PostgreSQL test database serves every test."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The test database, empty before the test and emptied after it."""
    engine = create_engine(settings)
    await drop_schema(engine)
    yield engine
    await drop_schema(engine)
    await engine.dispose()


@pytest.fixture
async def database(engine: AsyncEngine) -> AsyncEngine:
    """The test database with the models' tables, created fresh for this test."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return engine


@pytest.fixture
async def session(database: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_session_factory(database)() as session:
        yield session
{% endif %}


@pytest.fixture
{% if cookiecutter.database != "none" %}
async def client(
    settings: Settings, serve: Serve, database: AsyncEngine
) -> AsyncIterator[AsyncClient]:
{% else %}
async def client(settings: Settings, serve: Serve) -> AsyncIterator[AsyncClient]:
{% endif %}
    async with serve(create_app(settings)) as http:
        yield http
