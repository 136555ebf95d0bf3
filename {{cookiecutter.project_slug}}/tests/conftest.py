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

from {{ cookiecutter.package_name }}.core.config import Environment, Settings
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
{% if cookiecutter.redis == "yes" %}
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        database_url=database_url,
        **redis_settings(),
    )
{% else %}
    return Settings(_env_file=None, environment=Environment.TEST, database_url=database_url)
{% endif %}
{% else %}
def settings() -> Settings:
{% if cookiecutter.redis == "yes" %}
    return Settings(_env_file=None, environment=Environment.TEST, **redis_settings())
{% else %}
    return Settings(_env_file=None, environment=Environment.TEST)
{% endif %}
{% endif %}
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
    }
{% endif %}


@pytest.fixture
async def client(settings: Settings, serve: Serve) -> AsyncIterator[AsyncClient]:
    async with serve(create_app(settings)) as http:
        yield http
