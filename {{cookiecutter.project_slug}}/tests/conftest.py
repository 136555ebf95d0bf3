{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% if cookiecutter.auth != "none" %}
"""Fixtures: the app with its lifespan actually run, HTTP clients for it, and accounts.

``client`` is signed in as an admin made by ``scripts.create_admin``; ``anonymous`` has
no credentials: send an account's headers with each of its requests.
"""
{% else %}
"""Fixtures: the app with its lifespan actually run, and an HTTP client for it."""
{% endif %}

{% if cookiecutter.database != "none" or cookiecutter.redis == "yes" %}
import os
{% endif %}
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
{% if cookiecutter.auth != "none" %}
from dataclasses import dataclass
{% endif %}
{% if cookiecutter.database != "none" %}
from pathlib import Path
{% endif %}
{% if cookiecutter.redis == "yes" or jwt %}
from typing import Any
{% endif %}
{% if cookiecutter.redis == "yes" %}
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

{% if cookiecutter.auth == "api_key" %}
from {{ cookiecutter.package_name }}.core.authorization import ROLE_SCOPES
{% endif %}
from {{ cookiecutter.package_name }}.core.config import Environment, Settings
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.database.engine import create_engine, create_session_factory
{% if cookiecutter.auth == "api_key" %}
from {{ cookiecutter.package_name }}.database.models import Base, UserRole
{% else %}
from {{ cookiecutter.package_name }}.database.models import Base
{% endif %}
{% endif %}
from {{ cookiecutter.package_name }}.main import create_app
{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.scripts.create_admin import CreatedAdmin, create_admin
{% endif %}

Serve = Callable[[FastAPI], AbstractAsyncContextManager[AsyncClient]]
{% if cookiecutter.auth != "none" %}

USERS = "/api/v1/users"
ADMIN_EMAIL = "root@example.com"
{% if jwt %}
TOKEN_URL = "/api/v1/auth/token"
PASSWORD = "correct horse battery staple"
{% else %}
API_KEYS = "/api/v1/api-keys"
{% endif %}
{% endif %}


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
{% if jwt %}
        # Cheap password hashes keep the suite fast; the service keeps strong defaults.
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
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


{% if cookiecutter.auth != "none" %}
@dataclass(frozen=True)
class Account:
    """A user of the service, and the headers that authenticate as them."""

    id: str
    email: str
    headers: dict[str, str]
{% if jwt %}


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def log_in(
    client: AsyncClient, email: str, password: str = PASSWORD, **form: str
) -> dict[str, Any]:
    """The token response of a successful login (the OAuth2 password flow's form)."""
    response = await client.post(TOKEN_URL, data={"username": email, "password": password, **form})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens
{% endif %}


async def sign_up(client: AsyncClient, email: str, role: str = "member") -> Account:
    """A new user, created by the admin ``client``, with credentials of their own."""
{% if jwt %}
    response = await client.post(
        USERS, json={"email": email, "name": "User", "role": role, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    tokens = await log_in(client, email)
    return Account(response.json()["id"], email, bearer(tokens["access_token"]))
{% else %}
    response = await client.post(USERS, json={"email": email, "name": "User", "role": role})
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    scopes = sorted(ROLE_SCOPES[UserRole(role)])
    key = await client.post(API_KEYS, json={"name": "tests", "scopes": scopes, "owner_id": user_id})
    assert key.status_code == 201, key.text
    return Account(user_id, email, {"X-API-Key": key.json()["key"]})
{% endif %}


@pytest.fixture
async def admin(settings: Settings, database: AsyncEngine) -> CreatedAdmin:
    """The first admin, made the way the README says: with ``scripts.create_admin``."""
{% if jwt %}
    return await create_admin(settings, email=ADMIN_EMAIL, name="Admin", password=PASSWORD)
{% else %}
    return await create_admin(settings, email=ADMIN_EMAIL, name="Admin")
{% endif %}


@pytest.fixture
async def client(
    settings: Settings, serve: Serve, admin: CreatedAdmin
) -> AsyncIterator[AsyncClient]:
    """A client signed in as the admin."""
    async with serve(create_app(settings)) as http:
{% if jwt %}
        http.headers.update(bearer((await log_in(http, ADMIN_EMAIL))["access_token"]))
{% else %}
        http.headers["X-API-Key"] = admin.api_key
{% endif %}
        yield http


@pytest.fixture
async def anonymous(
    settings: Settings, serve: Serve, database: AsyncEngine
) -> AsyncIterator[AsyncClient]:
    """A client without credentials of its own."""
    async with serve(create_app(settings)) as http:
        yield http


@pytest.fixture
async def member(client: AsyncClient) -> Account:
    return await sign_up(client, "member@example.com")
{% else %}
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
{% endif %}
