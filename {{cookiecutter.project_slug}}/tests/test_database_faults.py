{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
"""Database outages made real: a TCP relay between the app and PostgreSQL that the test cuts.

The service starts without its database, says it is not ready, answers 503 Problem
Details meanwhile, and recovers by itself when the database returns. A connection
cut in the middle of a write is a 503 that leaves nothing behind.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.database.engine import create_engine
from {{ cookiecutter.package_name }}.database.models import Base, User
from {{ cookiecutter.package_name }}.main import create_app
{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.scripts.create_admin import create_admin
{% endif %}
{% if jwt %}
from tests.conftest import ADMIN_EMAIL, PASSWORD, TOKEN_URL, USERS, Serve, bearer, log_in
from tests.test_database_errors import credential_to_check
{% elif cookiecutter.auth == "api_key" %}
from tests.conftest import ADMIN_EMAIL, USERS, Serve
from tests.test_database_errors import credential_to_check
{% else %}
from tests.conftest import Serve

USERS = "/api/v1/users"
{% endif %}

# The app's own connections are cut, and its commits must be real.
pytestmark = pytest.mark.own_database


class Relay:
    """A TCP relay to a server: it can refuse connections, cut them, or cut on a cue.

    ``cut_before(cue)`` aborts every connection when the app sends bytes holding ``cue``,
    before they reach the server: the server sees its client vanish mid-transaction.
    """

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.up = True
        self.port = 0
        self._cue: bytes | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> "Relay":
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._server.close()
        self.cut()
        await self._server.wait_closed()

    def go_down(self) -> None:
        self.up = False
        self.cut()

    def come_back(self) -> None:
        self.up = True

    def cut(self) -> None:
        for writer in self._links:
            writer.transport.abort()
        self._links.clear()

    def cut_before(self, cue: bytes) -> None:
        self._cue = cue

    async def _link(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if not self.up:
            client.transport.abort()
            return
        server_reader, server = await asyncio.open_connection(*self.upstream)
        self._links |= {client, server}
        await asyncio.gather(
            self._pipe(client_reader, server, watch=True), self._pipe(server_reader, client)
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, watch: bool = False
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if watch and self._cue is not None and self._cue in data:
                    self._cue = None
                    self.cut()
                    return
                writer.write(data)
                await writer.drain()
        writer.transport.abort()


@dataclass
class Outage:
    """Settings for a database the app cannot reach until ``restore()``."""

    settings: Settings
    restore: Callable[[], Awaitable[None]]


def through(relay: Relay, settings: Settings) -> Settings:
    url = make_url(settings.database_url).set(host="127.0.0.1", port=relay.port)
    return settings.model_copy(update={"database_url": url.render_as_string(hide_password=False)})


@pytest.fixture
async def relay(settings: Settings, database: AsyncEngine) -> AsyncIterator[Relay]:
    """A relay to PostgreSQL; SQLite runs inside the process, with no connection to cut."""
    if database.dialect.name != "postgresql":
        pytest.skip("SQLite runs inside the process: there is no connection to cut")
    url = make_url(settings.database_url)
    async with Relay(url.host or "127.0.0.1", url.port or 5432) as relay:
        yield relay


@pytest.fixture
async def relayed_client(
    settings: Settings,
    serve: Serve,
    relay: Relay,
{% if cookiecutter.auth != "none" %}
    admin_headers: dict[str, str],
{% endif %}
) -> AsyncIterator[AsyncClient]:
{% if cookiecutter.auth != "none" %}
    """A client of the app that reaches PostgreSQL through ``relay``, signed in as the admin."""
{% else %}
    """A client of the app that reaches PostgreSQL through ``relay``."""
{% endif %}
    async with serve(create_app(through(relay, settings))) as client:
{% if cookiecutter.auth != "none" %}
        client.headers.update(admin_headers)
{% endif %}
        yield client


@pytest.fixture
async def outage(
    settings: Settings, database: AsyncEngine, tmp_path: Path
) -> AsyncIterator[Outage]:
    """PostgreSQL behind a relay that refuses connections; SQLite in a folder not there yet."""
    if database.dialect.name == "postgresql":
        url = make_url(settings.database_url)
        async with Relay(url.host or "127.0.0.1", url.port or 5432) as relay:
            relay.go_down()

            async def come_back() -> None:
                relay.come_back()

            yield Outage(through(relay, settings), come_back)
        return

    folder = tmp_path / "not-yet"
    missing = settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{folder / 'app.db'}"}
    )

    async def appear() -> None:
        folder.mkdir()
        engine = create_engine(missing)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await engine.dispose()

    yield Outage(missing, appear)


def assert_unavailable(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "service_unavailable"


async def test_the_service_starts_without_its_database_and_recovers_when_it_returns(
    outage: Outage, serve: Serve
) -> None:
    async with serve(create_app(outage.settings)) as client:
        not_ready = await client.get("/health/ready")
{% if cookiecutter.auth != "none" %}
        listing = await client.get(USERS, headers=credential_to_check(outage.settings))
{% else %}
        listing = await client.get(USERS)
{% endif %}

        await outage.restore()
{% if jwt %}
        await create_admin(outage.settings, email=ADMIN_EMAIL, name="Admin", password=PASSWORD)
        client.headers.update(bearer((await log_in(client, ADMIN_EMAIL))["access_token"]))
{% elif cookiecutter.auth == "api_key" %}
        created = await create_admin(outage.settings, email=ADMIN_EMAIL, name="Admin")
        client.headers["X-API-Key"] = created.api_key
{% else %}
        created = await client.post(USERS, json={"email": "ada@example.com", "name": "Ada"})
{% endif %}
        ready = await client.get("/health/ready")
        recovered = await client.get(USERS)

    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["database"]["status"] == "fail"
    assert_unavailable(listing)
    assert ready.status_code == 200
{% if cookiecutter.auth == "none" %}
    assert created.status_code == 201
{% endif %}
    assert recovered.status_code == 200
    assert [user["email"] for user in recovered.json()["items"]] == [{{ "ADMIN_EMAIL" if cookiecutter.auth != "none" else '"ada@example.com"' }}]
{% if jwt %}


async def test_logins_answered_503_do_not_count_against_the_account(
    outage: Outage, serve: Serve
) -> None:
    """Twelve logins while the database is down (the limit is five a minute per account):
    once it is back, its owner logs in at once.
    """
    login = {"username": ADMIN_EMAIL, "password": PASSWORD}

    async with serve(create_app(outage.settings)) as client:
        refused = [await client.post(TOKEN_URL, data=login) for _ in range(12)]
        await outage.restore()
        await create_admin(outage.settings, email=ADMIN_EMAIL, name="Admin", password=PASSWORD)
        after = await client.post(TOKEN_URL, data=login)

    for response in refused:
        assert_unavailable(response)
    assert after.status_code == 200, after.text
{% endif %}


async def count_users(database: AsyncEngine, email: str) -> int:
    async with database.connect() as connection:
        count = await connection.scalar(select(func.count()).where(User.email == email))
    return count or 0


async def test_a_connection_cut_before_the_commit_is_a_503_and_writes_nothing(
    relayed_client: AsyncClient, relay: Relay, database: AsyncEngine
) -> None:
{% if jwt %}
    ada = {"email": "ada@example.com", "name": "Ada", "password": PASSWORD}
{% else %}
    ada = {"email": "ada@example.com", "name": "Ada"}
{% endif %}
    client = relayed_client

    relay.cut_before(b"COMMIT")
    cut = await client.post(USERS, json=ada)
    rows_after_cut = await count_users(database, "ada@example.com")
    ready = await client.get("/health/ready")
    retried = await client.post(USERS, json=ada)

    assert_unavailable(cut)
    assert rows_after_cut == 0
    assert ready.status_code == 200
    assert retried.status_code == 201
    assert await count_users(database, "ada@example.com") == 1


async def test_a_dropped_connection_is_replaced_without_a_failed_request(
    relayed_client: AsyncClient, relay: Relay
) -> None:
    """The pool hands out connections unchecked; a request's first statement that finds
    its connection dropped (a database restart) runs once more on a fresh one."""
    before = await relayed_client.get(USERS)
    relay.cut()
    after = await relayed_client.get(USERS)

    assert before.status_code == 200
    assert after.status_code == 200, after.text


async def test_a_note_is_read_on_fresh_connections_after_the_database_dropped_them(
    relayed_client: AsyncClient, relay: Relay
) -> None:
    """A note is read straight on the driver (database/direct_reads.py), past the
    session: after a restart, when every connection in the pool is dropped, it finds
    fresh ones by itself; with the database down it is a 503."""
    client = relayed_client
{% if cookiecutter.auth != "none" %}
    note = await client.post("/api/v1/notes", json={"title": "Kept"})
{% else %}
    owner = await client.post(USERS, json={"email": "ada@example.com", "name": "Ada"})
    note = await client.post(
        "/api/v1/notes", json={"owner_id": owner.json()["id"], "title": "Kept"}
    )
{% endif %}
    url = f"/api/v1/notes/{note.json()['id']}"
    # Concurrent reads leave several connections in the pool.
    before = await asyncio.gather(*(client.get(url) for _ in range(4)))
    relay.cut()
    after = await client.get(url)
    relay.go_down()
    down = await client.get(url)

    assert [response.status_code for response in before] == [200] * 4
    assert after.status_code == 200, after.text
    assert after.json()["title"] == "Kept"
    assert_unavailable(down)
