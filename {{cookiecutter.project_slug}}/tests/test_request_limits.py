"""Oversized bodies are refused with 413, slow handlers with 504; streams are not cut off."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve

LIMIT = 64


def limited_app(settings: Settings) -> FastAPI:
    app = create_app(
        settings.model_copy(update={"max_request_body_bytes": LIMIT, "request_timeout": 0.05})
    )

    @app.post("/echo")
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    @app.get("/hang")
    async def hang() -> None:
        await asyncio.Event().wait()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first,"
            await asyncio.sleep(0.1)  # longer than the timeout, after the response started
            yield b"second"

        return StreamingResponse(chunks(), media_type="text/plain")

    return app


@pytest.fixture
async def client(settings: Settings, serve: Serve) -> AsyncIterator[AsyncClient]:
    async with serve(limited_app(settings)) as http:
        yield http


async def body_in_chunks(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_a_body_within_the_limit_is_served(client: AsyncClient) -> None:
    response = await client.post("/echo", json={"note": "small"})

    assert response.status_code == 200
    assert response.json() == {"note": "small"}


async def test_a_declared_oversized_body_is_refused_with_413(client: AsyncClient) -> None:
    response = await client.post("/echo", json={"note": "x" * LIMIT})

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"


async def test_a_chunked_oversized_body_is_refused_with_413(client: AsyncClient) -> None:
    chunks = body_in_chunks(b'{"note": "', b"x" * LIMIT, b'"}')

    response = await client.post(
        "/echo", content=chunks, headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_a_chunked_body_within_the_limit_reaches_the_route(client: AsyncClient) -> None:
    chunks = body_in_chunks(b'{"note":', b' "ok"}')

    response = await client.post(
        "/echo", content=chunks, headers={"content-type": "application/json"}
    )

    assert response.status_code == 200
    assert response.json() == {"note": "ok"}


async def test_a_handler_that_does_not_answer_in_time_gets_504(client: AsyncClient) -> None:
    response = await client.get("/hang")

    assert response.status_code == 504
    assert response.json()["code"] == "timeout"


async def test_a_started_stream_is_not_cut_off_by_the_timeout(client: AsyncClient) -> None:
    response = await client.get("/stream")

    assert response.status_code == 200
    assert response.text == "first,second"


async def test_malformed_json_is_a_422_problem(client: AsyncClient) -> None:
    response = await client.post(
        "/echo", content=b'{"note": ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_invalid_utf8_is_refused_without_a_500(client: AsyncClient) -> None:
    response = await client.post(
        "/echo", content=b'{"note": "\xff\xfe"}', headers={"content-type": "application/json"}
    )

    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_timeout_raised_by_the_handler_itself_is_a_500(
    settings: Settings, serve: Serve
) -> None:
    app = limited_app(settings)

    @app.get("/upstream-timeout")
    async def upstream_timeout() -> None:
        msg = "upstream did not answer"
        raise TimeoutError(msg)

    async with serve(app) as client:
        response = await client.get("/upstream-timeout")

    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
