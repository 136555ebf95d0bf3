{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
"""Only authenticated callers with the ``llm`` scope reach the LLM routes; each has their own
cached answers.
"""

import asyncio

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.database.models import LLMCall
{% if jwt %}
from tests.conftest import ADMIN_EMAIL, Account, Serve, Start, app_of, bearer, log_in
{% else %}
from tests.conftest import Account, Serve, Start, app_of
{% endif %}
from tests.llm.conftest import COMPLETE, STREAM
from tests.llm.stub import Reply, StubProvider

ONE_PROVIDER = True
USAGE = "/api/v1/llm/usage"
PROMPT = {"prompt": "Hello?"}
DETERMINISTIC = {"prompt": "Is my diagnosis serious?", "temperature": 0}
ARRIVAL_WAIT = 10


def assert_problem(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_a_caller_without_a_credential_gets_a_401_and_no_completion(
    settings: Settings, start: Start, primary: StubProvider, session: AsyncSession
) -> None:
    async with (
        start(app_of(settings)) as app,
        AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http,
    ):
        responses = [
            await http.post(COMPLETE, json=PROMPT),
            await http.post(STREAM, json=PROMPT),
            await http.get(USAGE),
        ]

    for response in responses:
        assert_problem(response, 401, "unauthorized")
        assert "www-authenticate" in response.headers
    assert primary.received == []
    assert await session.scalar(select(func.count()).select_from(LLMCall)) == 0


async def test_a_credential_without_the_llm_scope_gets_a_403(
    client: AsyncClient, primary: StubProvider
) -> None:
{% if jwt %}
    tokens = await log_in(client, ADMIN_EMAIL, scope="profile")
    profile_only = bearer(tokens["access_token"])
{% else %}
    key = await client.post("/api/v1/api-keys", json={"name": "profile", "scopes": ["profile"]})
    assert key.status_code == 201, key.text
    profile_only = {"X-API-Key": key.json()["key"]}
{% endif %}

    completion = await client.post(COMPLETE, json=PROMPT, headers=profile_only)
    usage = await client.get(USAGE, headers=profile_only)
    allowed = await client.get("/api/v1/users/me", headers=profile_only)

    assert_problem(completion, 403, "forbidden")
    assert_problem(usage, 403, "forbidden")
    assert "llm" in completion.json()["detail"]
    assert allowed.status_code == 200
    assert primary.received == []


@pytest.mark.own_database
async def test_a_completion_in_progress_holds_no_database_connection(
    settings: Settings, serve: Serve, primary: StubProvider
) -> None:
    """Authenticating reads the database; a slow provider must not keep the connection.

    (A PostgreSQL pool of one connection, on a database of its own: the shared one's
    test transaction is one connection already. SQLite's pool does not take these
    settings.)
    """
    one_connection = settings.model_copy(
        update={"database_pool_size": 1, "database_max_overflow": 0, "database_pool_timeout": 2}
    )
    primary.will(Reply(hold=True))

    async with serve(app_of(one_connection)) as client:
        completion = asyncio.create_task(client.post(COMPLETE, json=PROMPT))
        await asyncio.wait_for(primary.arrived.wait(), ARRIVAL_WAIT)
        meanwhile = await client.get("/api/v1/users/me")
        primary.release()
        answered = await completion

    assert meanwhile.status_code == 200, meanwhile.text
    assert answered.status_code == 200, answered.text


async def test_cached_answers_are_not_shared_between_users(
    client: AsyncClient, primary: StubProvider, member: Account
) -> None:
    """Else a user who sends another's prompt learns, from ``cached``, that it was asked."""
    asked = await client.post(COMPLETE, json=DETERMINISTIC)
    asked_again = await client.post(COMPLETE, json=DETERMINISTIC)
    by_someone_else = await client.post(COMPLETE, json=DETERMINISTIC, headers=member.headers)

    assert [asked.json()["cached"], asked_again.json()["cached"]] == [False, True]
    assert by_someone_else.status_code == 200
    assert by_someone_else.json()["cached"] is False
    assert len(primary.received) == 2


async def test_the_cache_is_shared_between_users_when_configured(
    settings: Settings, serve: Serve, primary: StubProvider, member: Account
) -> None:
    shared = settings.model_copy(update={"llm_cache_shared": True})

    async with serve(app_of(shared)) as client:
        asked = await client.post(COMPLETE, json=DETERMINISTIC)
        by_someone_else = await client.post(COMPLETE, json=DETERMINISTIC, headers=member.headers)

    assert asked.json()["cached"] is False
    assert by_someone_else.json()["cached"] is True
    assert len(primary.received) == 1
