"""The login form refuses what no account has before any query, and stalls no one.

A NUL character in the username (PostgreSQL cannot store one: it answered 500 after
a minute, with the password in a 19 MB traceback) and a username longer than any email
address are 422, whether the form is URL-encoded or multipart.
"""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.conftest import PASSWORD, TOKEN_URL


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The SQL statements any engine runs from now on, until the test ends."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
async def test_a_nul_in_the_username_is_a_422_before_any_query(
    anonymous: AsyncClient,
    statements: list[str],
    capsys: pytest.CaptureFixture[str],
    encoding: str,
) -> None:
    username = "victim\x00@example.com"
    if encoding == "urlencoded":
        sent = anonymous.post(TOKEN_URL, data={"username": username, "password": PASSWORD})
    else:
        fields = {"username": (None, username), "password": (None, PASSWORD)}
        sent = anonymous.post(TOKEN_URL, files=fields)

    response = await asyncio.wait_for(sent, timeout=30)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["body", "username"]
    assert statements == []
    assert PASSWORD not in capsys.readouterr().out


@pytest.mark.parametrize("length", [30_000, 900_000])
async def test_a_username_longer_than_any_email_is_a_422_and_stalls_no_one(
    anonymous: AsyncClient, statements: list[str], length: int
) -> None:
    username = "x@" + "b" * length  # its redaction once froze the worker for 7 s

    login, live = await asyncio.wait_for(
        asyncio.gather(
            anonymous.post(TOKEN_URL, data={"username": username, "password": PASSWORD}),
            anonymous.get("/health/live"),
        ),
        timeout=30,
    )

    assert (login.status_code, live.status_code) == (422, 200)
    assert login.json()["errors"][0]["loc"] == ["body", "username"]
    assert statements == []
