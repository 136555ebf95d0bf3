"""Fixtures: the app with its lifespan actually run, and an HTTP client for it."""

{% if cookiecutter.database != "none" %}
import os
{% endif %}
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
{% if cookiecutter.database != "none" %}
from pathlib import Path
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
{% if cookiecutter.llm != "none" %}
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        database_url=database_url,
        llm_providers=["fake"],
    )
{% else %}
    return Settings(_env_file=None, environment=Environment.TEST, database_url=database_url)
{% endif %}
{% elif cookiecutter.llm != "none" %}
def settings() -> Settings:
    return Settings(_env_file=None, environment=Environment.TEST, llm_providers=["fake"])
{% else %}
def settings() -> Settings:
    return Settings(_env_file=None, environment=Environment.TEST)
{% endif %}


@pytest.fixture
async def client(settings: Settings, serve: Serve) -> AsyncIterator[AsyncClient]:
    async with serve(create_app(settings)) as http:
        yield http
