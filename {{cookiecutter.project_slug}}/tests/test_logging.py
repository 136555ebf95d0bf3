"""Logs are structured, carry the request ID, and record failures with their traceback."""

import json
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.core.config import Settings
from tests.conftest import Serve
from tests.test_errors import app_with_failing_routes


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


async def test_each_request_writes_one_json_access_line(
    capsys: pytest.CaptureFixture[str], settings: Settings, serve: Serve
) -> None:
    app = app_with_failing_routes(settings.model_copy(update={"log_json": True}))
    async with serve(app) as client:
        response = await client.get("/health/live")

    access = [line for line in json_lines(capsys.readouterr().out) if line["event"] == "request"]
    assert len(access) == 1
    assert access[0]["method"] == "GET"
    assert access[0]["path"] == "/health/live"
    assert access[0]["status"] == 200
    assert access[0]["duration_ms"] >= 0
    assert access[0]["request_id"] == response.headers["x-request-id"]
    assert access[0]["level"] == "info"


async def test_an_unhandled_error_is_logged_with_its_traceback(
    capsys: pytest.CaptureFixture[str], settings: Settings, serve: Serve
) -> None:
    app = app_with_failing_routes(settings.model_copy(update={"log_json": True}))
    async with serve(app) as client:
        response = await client.get("/boom")

    lines = json_lines(capsys.readouterr().out)
    [error] = [line for line in lines if line["event"] == "unhandled_error"]
    assert error["level"] == "error"
    assert error["request_id"] == response.headers["x-request-id"]
    assert "Traceback" in error["exception"]
    assert "RuntimeError" in error["exception"]
    [access] = [line for line in lines if line["event"] == "request"]
    assert access["status"] == 500
