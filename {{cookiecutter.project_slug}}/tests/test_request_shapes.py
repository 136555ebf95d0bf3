"""Hostile request shapes get a 4xx Problem Details answer, never a 500.

Bodies over ``MAX_REQUEST_BODY_BYTES``, malformed JSON and invalid UTF-8 are in
``test_request_limits``, slow bodies, header limits and NUL characters in
``test_hostile_requests``; here: nesting deep enough to exhaust a recursive parser,
and headers far larger than any client sends.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve

DEPTH = 100_000


def echo_app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.post("/echo")
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    return app


@pytest.fixture
async def client(settings: Settings, serve: Serve) -> AsyncIterator[AsyncClient]:
    async with serve(echo_app(settings)) as http:
        yield http


@pytest.mark.parametrize(
    "body",
    [
        b"[" * DEPTH + b"]" * DEPTH,
        b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
    ],
    ids=["arrays", "objects"],
)
async def test_deeply_nested_json_is_a_400_problem(client: AsyncClient, body: bytes) -> None:
    response = await client.post(
        "/echo", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "bad_request"


async def test_huge_headers_are_refused_with_431(client: AsyncClient) -> None:
    # The service bounds the request head it is handed (MAX_REQUEST_HEADER_BYTES); the
    # HTTP server reads it first, so a reverse proxy in front should bound it too (see
    # README).
    response = await client.get(
        "/health/live", headers={"X-Padding": "a" * 100_000, "X-Request-ID": "r" * 10_000}
    )

    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.headers["X-Request-ID"]) < 100
