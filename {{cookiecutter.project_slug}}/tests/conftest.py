{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set db = cookiecutter.database != "none" %}
{% set auth = cookiecutter.auth != "none" %}
{% if db %}
"""Fixtures: the test database, the app with its lifespan actually run, and HTTP clients.

The schema is built once per test session (per xdist worker) by running the Alembic
migrations. Each test then runs inside one database transaction that is rolled back
when it ends: every session the app or the test opens joins that transaction (its
commits become savepoints), so tests see their own writes and never each other's.
A test that must see real commits or real connection loss is marked
``own_database`` and gets a freshly migrated database of its own.
{% if auth %}

``client`` is signed in as an admin made once per test session by
``scripts.create_admin``; ``anonymous`` has no credentials: send an account's headers
with each of its requests.
{% endif %}
"""
{% else %}
"""Fixtures: the app with its lifespan actually run, and an HTTP client for it."""
{% endif %}

{% if db %}
import asyncio
{% endif %}
import gc
{% if db or cookiecutter.redis == "yes" %}
import os
{% endif %}
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
{% if auth %}
from dataclasses import dataclass
{% endif %}
{% if db %}
from pathlib import Path
{% endif %}
from typing import Any
{% if cookiecutter.redis == "yes" %}
from uuid import uuid4
{% endif %}

import pytest
{% if db %}
from alembic import command
from alembic.config import Config
{% endif %}
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from hypothesis import settings as hypothesis_settings
{% if db %}
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
{% endif %}
from starlette.types import ASGIApp, Receive, Scope, Send

{% if cookiecutter.auth == "api_key" %}
from {{ cookiecutter.package_name }}.core.authorization import ROLE_SCOPES
{% endif %}
from {{ cookiecutter.package_name }}.core.config import Environment, Settings
{% if cookiecutter.auth == "api_key" %}
from {{ cookiecutter.package_name }}.core.domain import UserRole
{% endif %}
from {{ cookiecutter.package_name }}.core.logging import configure_logging
{% if db %}
from {{ cookiecutter.package_name }}.database.direct_reads import DirectReads
from {{ cookiecutter.package_name }}.database.engine import create_engine
from {{ cookiecutter.package_name }}.database.models import Base
from {{ cookiecutter.package_name }}.database.session import WROTE, TrackedSession
{% endif %}
from {{ cookiecutter.package_name }}.main import create_app
{% if auth %}
from {{ cookiecutter.package_name }}.scripts.create_admin import CreatedAdmin, create_admin
{% endif %}

Start = Callable[[FastAPI], AbstractAsyncContextManager[ASGIApp]]
Serve = Callable[[FastAPI], AbstractAsyncContextManager[AsyncClient]]
_BUILT_APPS: list[tuple[Settings, FastAPI]] = []
{% if cookiecutter.redis == "yes" %}
JOB_QUEUE = f"test:{uuid4().hex}:jobs"
{% endif %}
{% if db %}
ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
OWN_DATABASE = "own_database"
{% endif %}
{% if auth %}

USERS = "/api/v1/users"
ADMIN_EMAIL = "root@example.com"
{% if jwt %}
TOKEN_URL = "/api/v1/auth/token"
PASSWORD = "correct horse battery staple"
{% else %}
API_KEYS = "/api/v1/api-keys"
{% endif %}
{% endif %}

# How hard tests/test_fuzz.py looks: a few reproducible examples per operation in
# every run; ``pytest --hypothesis-profile=deep`` for a long random search.
hypothesis_settings.register_profile("default", max_examples=5, derandomize=True, database=None)
hypothesis_settings.register_profile("deep", max_examples=500, derandomize=False)


def pytest_collection_finish() -> None:
    """Spare the garbage collector most of its rounds: they took a sixth of the suite.

    What the imports and the collection built lives until the session ends, so the
    collector need not walk it again (``gc.freeze``); the tests make many objects that
    live briefly, so it runs after more of them than by default.
    """
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
{% if db %}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{OWN_DATABASE}: the test needs real commits or connection loss, so it gets a "
        "freshly migrated database of its own instead of the shared one's rollback",
    )
{% endif %}


def make_settings(**overrides: Any) -> Settings:
    """Settings for tests: no ``.env``, the test environment, nothing that leaves the machine."""
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
{% if cookiecutter.llm != "none" %}
        llm_providers=["fake"],
{% endif %}
{% if cookiecutter.rag == "yes" %}
        embedding_provider="fake",
{% endif %}
{% if cookiecutter.llm != "none" and cookiecutter.database != "none" %}
        # Each usage row written in its call: the tests read them right after it.
        llm_usage_flush_seconds=0,
{% endif %}
{% if jwt %}
        # Cheap password hashes keep the suite fast; the service keeps strong defaults.
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
{% endif %}
{% if cookiecutter.redis == "yes" %}
        **redis_settings(),
{% endif %}
        **overrides,
    )
{% if cookiecutter.redis == "yes" %}


def redis_settings() -> dict[str, Any]:
    """The real Redis (``TEST_REDIS_URL``), with a job queue of this test process's own.

    Test runs may share one Redis: every key a run writes is unique to it. No worker
    runs on this queue: a test that runs one gives it a queue of the test's own.
    """
    return {
        "redis_url": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "job_queue_name": JOB_QUEUE,
        # Fresh counters for every test; test_rate_limit shares them through Redis.
        "rate_limit_storage_uri": "memory://",
{% if cookiecutter.llm != "none" %}
        # A cache of this test's own: answers cached by other runs must not leak in.
        "llm_cache_url": "mem://",
{% endif %}
    }
{% endif %}


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Run the app's lifespan as a server does; yield the state it hands to requests."""
    async with app.router.lifespan_context(app) as state:
        yield dict(state or {})


def with_state(app: FastAPI, state: dict[str, Any]) -> ASGIApp:
    """``app`` as a server serves it: each request gets a copy of the lifespan state."""

    async def serve_request(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"] = dict(state)
        await app(scope, receive, send)

    return serve_request


@asynccontextmanager
async def client_of(app: ASGIApp) -> AsyncIterator[AsyncClient]:
    """A client that talks to ``app`` in-process."""
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def app_of(settings: Settings) -> FastAPI:
    """The app of ``settings``, built once per test process.

    An app works out how to validate each route's requests on its first request, which
    takes longer than most tests: tests on equal settings share one app. Each still
    runs the lifespan, so every resource is the test's own; only the app's metrics
    are shared (a test that counts them builds an app of its own, as does one that
    adds routes). Building an app sets up logging for its settings, which another app
    may have changed since: a shared app does it again.
    """
    for known, app in _BUILT_APPS:
        if known == settings:
            configure_logging(settings)
            return app
    app = create_app(settings)
    _BUILT_APPS.append((settings, app))
    return app


@pytest.fixture
def serve(start: Start) -> Serve:
    """Serve an app: its lifespan runs, and a client talks to it in-process."""

    @asynccontextmanager
    async def serving(app: FastAPI) -> AsyncIterator[AsyncClient]:
        async with start(app) as asgi, client_of(asgi) as client:
            yield client

    return serving
{% if db %}


def use_savepoints(engine: AsyncEngine) -> AsyncEngine:
    """Let a rolled-back test transaction hold savepoints on SQLite too.

    The SQLite driver begins transactions itself, lazily, and a savepoint outside one
    commits when released; SQLAlchemy's documented fix is to begin them ourselves.
    """
    if engine.dialect.name != "sqlite":
        return engine

    @event.listens_for(engine.sync_engine, "connect")
    def _no_driver_transactions(dbapi_connection: DBAPIConnection, _: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


async def drop_schema(engine: AsyncEngine) -> None:
    """Drop every table, Alembic's too (a database left by an interrupted run)."""
    async with engine.begin() as connection:
{% if cookiecutter.rag == "yes" %}
        # The chunk index's own tables, which no model describes (first: on PostgreSQL
        # they refer to the chunks).
        await connection.execute(text("DROP TABLE IF EXISTS chunk_index_vectors"))
        await connection.execute(text("DROP TABLE IF EXISTS chunk_index_text"))
{% endif %}
        await connection.run_sync(Base.metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


async def migrate(database_url: str) -> None:
    """Build the schema the way production does: ``alembic upgrade head``."""
    config = Config(ALEMBIC_INI)
    config.attributes["database_url"] = database_url
    # Alembic runs its own event loop: give it a thread of its own.
    await asyncio.to_thread(command.upgrade, config, "head")


@asynccontextmanager
async def new_database(base_url: str, name: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database beside ``base_url``'s, dropped afterwards."""
    admin = create_engine(make_settings(database_url=base_url)).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def migrated_database(url: str) -> AsyncIterator[AsyncEngine]:
    engine = use_savepoints(create_engine(make_settings(database_url=url)))
    try:
        await drop_schema(engine)
        await migrate(url)
        yield engine
    finally:
        await engine.dispose()


class JoinedSession(TrackedSession):
    """A session of the app inside the test's transaction, where its commit is a savepoint.

    In production each session has a connection of its own; here they share the test's,
    and their savepoints nest. A session that only read and ends without a commit would
    roll back to its savepoint, undoing what sessions opened after it wrote meanwhile
    (a login checked by one session, a password changed by another): it releases its
    savepoint instead, which changes nothing of its own.
    """

    def close(self) -> None:
        transaction = self.get_transaction()
        wrote = self.info.get(WROTE, False) or self.new or self.dirty or self.deleted
        if transaction is not None and transaction.is_active and not wrote:
            self.commit()
        super().close()


@pytest.fixture(scope="session")
{% if cookiecutter.rag == "yes" and cookiecutter.database == "postgresql" %}
async def shared_database(worker_id: str) -> AsyncIterator[AsyncEngine]:
    """The database that tests share, migrated once: ``TEST_DATABASE_URL``, PostgreSQL
    with pgvector, which retrieval needs (each xdist worker on a database of its own
    beside it).
    """
    base_url = os.environ.get("TEST_DATABASE_URL")
    if base_url is None:
        pytest.exit(
            "set TEST_DATABASE_URL: retrieval's tests need PostgreSQL with pgvector (README)",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
{% else %}
async def shared_database(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> AsyncIterator[AsyncEngine]:
    """The database that tests share, migrated once: SQLite in a temporary folder, or
    ``TEST_DATABASE_URL`` (each xdist worker on a database of its own beside it).
    """
    base_url = os.environ.get("TEST_DATABASE_URL")
    if base_url is None:
        path = tmp_path_factory.mktemp("database") / "test.db"
        async with migrated_database(f"sqlite+aiosqlite:///{path}") as engine:
            yield engine
{% endif %}
    elif worker_id == "master":
        async with migrated_database(base_url) as engine:
            yield engine
    else:
        name = f"{make_url(base_url).database}_{worker_id}"
        async with new_database(base_url, name) as url, migrated_database(url) as engine:
            yield engine


@pytest.fixture(scope="session")
async def spare_database(shared_database: AsyncEngine) -> AsyncIterator[str]:
    """A second PostgreSQL database beside the shared one, for ``own_database`` tests.

    Made once and emptied for each such test: dropping a database makes the server
    write a checkpoint, which can take seconds.
    """
    base_url = shared_database.url.render_as_string(hide_password=False)
    async with new_database(base_url, f"{shared_database.url.database}_own") as url:
        yield url


@pytest.fixture
def own_database_url(
    request: pytest.FixtureRequest, shared_database: AsyncEngine, tmp_path: Path
) -> str | None:
    """Where an ``own_database`` test's database is; None for the tests that share."""
    if request.node.get_closest_marker(OWN_DATABASE) is None:
        return None
    if shared_database.dialect.name == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
    spare: str = request.getfixturevalue("spare_database")
    return spare


@pytest.fixture
async def database(
    shared_database: AsyncEngine, own_database_url: str | None
) -> AsyncIterator[AsyncEngine]:
    """The test's database, migrated: the shared one, or one of its own (``own_database``).

    Write to the shared one only through ``connection`` or ``session``: what an engine
    commits there stays for the tests after.
    """
    if own_database_url is None:
        yield shared_database
        return
    async with migrated_database(own_database_url) as engine:
        yield engine


@pytest.fixture
async def connection(database: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in the transaction that the test's writes go to, rolled back after it."""
    async with database.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session in the test's transaction: it sees what the app wrote, and the app sees it."""
    async with AsyncSession(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    ) as session:
        yield session


@pytest.fixture(scope="session")
def shared_settings(shared_database: AsyncEngine) -> Settings:
    """Test settings on the shared database, read once (reading settings takes milliseconds)."""
    return make_settings(database_url=shared_database.url.render_as_string(hide_password=False))


@pytest.fixture
def settings(
    shared_settings: Settings, database: AsyncEngine, own_database_url: str | None
) -> Settings:
    """Test settings on the test's database: a copy, the test's own to change."""
    if own_database_url is None:
        return shared_settings.model_copy()
    return make_settings(database_url=database.url.render_as_string(hide_password=False))


@pytest.fixture
def start(
    request: pytest.FixtureRequest, database: AsyncEngine, connection: AsyncConnection
) -> Start:
    """Start an app; one on the shared database joins the test's transaction."""
    shared = request.node.get_closest_marker(OWN_DATABASE) is None
    url = database.url.render_as_string(hide_password=False)

    @asynccontextmanager
    async def starting(app: FastAPI) -> AsyncIterator[ASGIApp]:
        async with running(app) as state:
            if shared and app.state.settings.database_url == url:
                state["db_sessions"].configure(
                    bind=connection,
                    join_transaction_mode="create_savepoint",
                    sync_session_class=JoinedSession,
                )
                state["direct_reads"] = DirectReads(
                    state["db_engine"], attempts=1, connection=connection
                )
            yield with_state(app, state)

    return starting
{% else %}


@pytest.fixture(scope="session")
def shared_settings() -> Settings:
    """The test settings, read once (reading settings takes milliseconds)."""
    return make_settings()


@pytest.fixture
def settings(shared_settings: Settings) -> Settings:
    """A copy of the test settings, the test's own to change."""
    return shared_settings.model_copy()


@pytest.fixture
def start() -> Start:
    """Start an app: its lifespan runs for as long as the block."""

    @asynccontextmanager
    async def starting(app: FastAPI) -> AsyncIterator[ASGIApp]:
        async with running(app) as state:
            yield with_state(app, state)

    return starting
{% endif %}
{% if auth %}


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


async def make_admin(settings: Settings) -> tuple[CreatedAdmin, dict[str, str]]:
    """The first admin, made the way the README says (``scripts.create_admin``), and the
    headers that authenticate as them.
    """
{% if jwt %}
    admin = await create_admin(settings, email=ADMIN_EMAIL, name="Admin", password=PASSWORD)
    app = app_of(settings)
    async with running(app) as state, client_of(with_state(app, state)) as client:
        return admin, bearer((await log_in(client, ADMIN_EMAIL))["access_token"])
{% else %}
    admin = await create_admin(settings, email=ADMIN_EMAIL, name="Admin")
    return admin, {"X-API-Key": admin.api_key}
{% endif %}


@pytest.fixture(scope="session")
async def shared_admin(shared_settings: Settings) -> tuple[CreatedAdmin, dict[str, str]]:
    """The shared database's admin, committed once for the whole session."""
    return await make_admin(shared_settings)


@pytest.fixture
async def own_admin(settings: Settings) -> tuple[CreatedAdmin, dict[str, str]]:
    """The admin of a test's own database."""
    return await make_admin(settings)


@pytest.fixture
def signed_in_admin(request: pytest.FixtureRequest) -> tuple[CreatedAdmin, dict[str, str]]:
    own = request.node.get_closest_marker(OWN_DATABASE) is not None
    admin: tuple[CreatedAdmin, dict[str, str]] = request.getfixturevalue(
        "own_admin" if own else "shared_admin"
    )
    return admin


@pytest.fixture
def admin(signed_in_admin: tuple[CreatedAdmin, dict[str, str]]) -> CreatedAdmin:
    return signed_in_admin[0]


@pytest.fixture
def admin_headers(signed_in_admin: tuple[CreatedAdmin, dict[str, str]]) -> dict[str, str]:
    """The admin's credentials, good for every app of the test's settings."""
    return signed_in_admin[1]


@pytest.fixture
async def client(
    settings: Settings, serve: Serve, admin_headers: dict[str, str]
) -> AsyncIterator[AsyncClient]:
    """A client signed in as the admin."""
    async with serve(app_of(settings)) as http:
        http.headers.update(admin_headers)
        yield http


@pytest.fixture
async def anonymous(settings: Settings, serve: Serve) -> AsyncIterator[AsyncClient]:
    """A client without credentials of its own."""
    async with serve(app_of(settings)) as http:
        yield http


@pytest.fixture
async def member(client: AsyncClient) -> Account:
    return await sign_up(client, "member@example.com")
{% else %}


@pytest.fixture
async def client(settings: Settings, serve: Serve) -> AsyncIterator[AsyncClient]:
    async with serve(app_of(settings)) as http:
        yield http
{% endif %}
