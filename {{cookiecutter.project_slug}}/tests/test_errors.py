"""Every error reaches the client in one shape: RFC 9457 Problem Details."""

from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import ConflictError, RateLimitedError
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve

PROBLEM_JSON = "application/problem+json"


def app_with_failing_routes(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        msg = "connection to db failed: password=hunter2"
        raise RuntimeError(msg)

    @app.get("/conflict")
    async def conflict() -> None:
        raise ConflictError("That name is taken.")

    @app.get("/slow-down")
    async def slow_down() -> None:
        raise RateLimitedError("Too many attempts.", retry_after=30)

    @app.get("/items")
    async def items(limit: Annotated[int, Query(ge=1, le=100)]) -> dict[str, int]:
        return {"limit": limit}

    return app


@pytest.fixture
async def failing(settings: Settings, serve: Serve) -> AsyncIterator[AsyncClient]:
    async with serve(app_with_failing_routes(settings)) as client:
        yield client


async def test_unknown_route_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/no/such/thing", headers={"X-Request-ID": "a" * 32})

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
        "instance": "/no/such/thing",
        "code": "not_found",
        "request_id": "a" * 32,
    }


async def test_wrong_method_is_a_405_problem_with_allow_header(client: AsyncClient) -> None:
    response = await client.delete("/health/live")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"


async def test_validation_error_lists_each_invalid_field(failing: AsyncClient) -> None:
    response = await failing.get("/items", params={"limit": "0"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"] == [
        {
            "loc": ["query", "limit"],
            "msg": "Input should be greater than or equal to 1",
            "type": "greater_than_equal",
        }
    ]


async def test_missing_field_is_reported_without_echoing_input(failing: AsyncClient) -> None:
    response = await failing.get("/items")

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["loc"] == ["query", "limit"]
    assert "input" not in error


async def test_app_errors_keep_their_status_code_and_headers(failing: AsyncClient) -> None:
    conflict = await failing.get("/conflict")
    limited = await failing.get("/slow-down")

    assert conflict.status_code == 409
    assert conflict.json()["code"] == "conflict"
    assert conflict.json()["detail"] == "That name is taken."
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "30"
    assert limited.json()["code"] == "rate_limited"


async def test_unhandled_error_is_a_500_with_only_the_request_id(failing: AsyncClient) -> None:
    response = await failing.get("/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "internal_error"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text


async def test_error_responses_are_documented_in_openapi(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    assert "ProblemDetail" in schema["components"]["schemas"]
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            assert "500" in operation["responses"]
