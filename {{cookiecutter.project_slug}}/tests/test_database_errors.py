{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
"""An unreachable or failing database is a 503 in the usual error shape, never a 500."""

import socket
from collections.abc import Iterator
{% if cookiecutter.auth == "jwt" %}
from datetime import timedelta
{% endif %}
from pathlib import Path
{% if cookiecutter.auth == "jwt" %}
from uuid import uuid4
{% endif %}

import pytest
{% if cookiecutter.auth != "none" %}
from httpx import AsyncClient, Response
{% else %}
from httpx import Response
{% endif %}
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.dependencies import SessionDep
{% if cookiecutter.auth == "jwt" %}
from {{ cookiecutter.package_name }}.core.tokens import TokenCodec, TokenType
{% endif %}
from {{ cookiecutter.package_name }}.database.models import User
from {{ cookiecutter.package_name }}.main import create_app
{% if cookiecutter.auth == "jwt" %}
from tests.conftest import Serve, bearer
{% else %}
from tests.conftest import Serve
{% endif %}


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port held but not listening: connections to it are refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture(params=["postgresql", "sqlite"])
def unreachable_url(request: pytest.FixtureRequest, closed_port: int, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return f"postgresql+asyncpg://app@127.0.0.1:{closed_port}/app"
    return f"sqlite+aiosqlite:///{tmp_path / 'missing-folder' / 'app.db'}"


{% if cookiecutter.auth == "api_key" or cookiecutter.auth == "jwt_and_api_key" %}
def credential_to_check(settings: Settings) -> dict[str, str]:
    """Headers with a well-formed API key: only the database can tell whether it is valid."""
    return {"X-API-Key": f"ak_{'0' * 16}.{'A' * 43}"}


{% elif cookiecutter.auth == "jwt" %}
def credential_to_check(settings: Settings) -> dict[str, str]:
    """Headers with a token signed by the service: only the database knows its login."""
    token = TokenCodec(settings).issue(
        TokenType.ACCESS,
        user_id=uuid4(),
        session_id=uuid4(),
        scopes=[],
        lifetime=timedelta(minutes=5),
    )
    return bearer(token)


{% endif %}
def assert_unavailable(response: Response) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "service_unavailable"
    for leak in ("Traceback", "asyncpg", "sqlite3", "Error"):
        assert leak not in response.text


async def test_an_unreachable_database_is_a_503_and_not_ready(
    settings: Settings, serve: Serve, unreachable_url: str
) -> None:
    unreachable = settings.model_copy(update={"database_url": unreachable_url})

    async with serve(create_app(unreachable)) as client:
{% if cookiecutter.auth != "none" %}
        # Authentication needs the database: a request without a credential is a 401.
        client.headers.update(credential_to_check(unreachable))
{% endif %}
        ready = await client.get("/health/ready")
        listing = await client.get("/api/v1/users")
        creation = await client.post(
            "/api/v1/users", json={"email": "ada@example.com", "name": "Ada"}
        )

    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["status"] == "fail"
    assert_unavailable(listing)
    assert_unavailable(creation)


@pytest.mark.own_database  # the app's own connection is the one that is lost
async def test_a_connection_lost_mid_request_is_a_503(
    settings: Settings, serve: Serve, database: AsyncEngine
) -> None:
    if database.dialect.name != "postgresql":
        pytest.skip("needs a database server that can end a connection")
    app = create_app(settings)

    @app.post("/lose-connection")
    async def lose_connection(session: SessionDep) -> None:
        await session.execute(insert(User).values(email="ada@example.com", name="Ada"))
        await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    async with serve(app) as client:
        response = await client.post("/lose-connection")
        ready = await client.get("/health/ready")

    assert_unavailable(response)
    assert ready.status_code == 200


{% if cookiecutter.auth != "none" %}
@pytest.mark.own_database  # a second writer, outside the app
async def test_a_database_locked_by_another_writer_is_a_503(
    settings: Settings, serve: Serve, database: AsyncEngine, client: AsyncClient
) -> None:
{% else %}
@pytest.mark.own_database  # a second writer, outside the app
async def test_a_database_locked_by_another_writer_is_a_503(
    settings: Settings, serve: Serve, database: AsyncEngine
) -> None:
{% endif %}
    if database.dialect.name != "sqlite":
        pytest.skip("SQLite has one writer at a time; servers lock rows, not databases")
    impatient = settings.model_copy(update={"database_connect_timeout": 0.01})

{% if cookiecutter.auth != "none" %}
    async with serve(create_app(impatient)) as impatient_client, database.connect() as writer:
{% else %}
    async with serve(create_app(impatient)) as client, database.connect() as writer:
{% endif %}
        await writer.execute(insert(User).values(email="grace@example.com", name="Grace"))
{% if cookiecutter.auth != "none" %}
        response = await impatient_client.post(
            "/api/v1/users",
            json={"email": "ada@example.com", "name": "Ada"},
            headers=client.headers,
        )
{% else %}
        response = await client.post(
            "/api/v1/users", json={"email": "ada@example.com", "name": "Ada"}
        )
{% endif %}
        await writer.rollback()

    assert_unavailable(response)
