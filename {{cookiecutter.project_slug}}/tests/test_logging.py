"""Logs are structured, carry the request ID, record failures with their traceback, and
never hold a credential, a password or a person's email address."""

import json
from typing import Any

import pytest
import structlog

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.logging import Redactor
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


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
API_KEY = "ak_0123456789abcdef.c2VjcmV0LXBhcnQtb2YtdGhlLWtleS0xMjM0NTY3ODkw"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"password": "hunter2"}, {"password": "[redacted]"}),
        ({"new_password": "hunter2"}, {"new_password": "[redacted]"}),
        ({"refresh_token": JWT}, {"refresh_token": "[redacted]"}),
        ({"X-API-Key": API_KEY}, {"X-API-Key": "[redacted]"}),
        (
            {"headers": {"authorization": "Basic YTpi"}},
            {"headers": {"authorization": "[redacted]"}},
        ),
        ({"detail": f"got Bearer {JWT} here"}, {"detail": "got Bearer [redacted] here"}),
        ({"detail": f"token {JWT}"}, {"detail": "token [redacted]"}),
        ({"detail": f"key {API_KEY}"}, {"detail": "key ak_0123456789abcdef.[redacted]"}),
        ({"email": "Ada.L+x@example.co.uk"}, {"email": "[redacted]@example.co.uk"}),
        ({"to": ["ada@example.com", 3]}, {"to": ["[redacted]@example.com", 3]}),
        (
            {"prompt_tokens": 12, "path": "/api/v1/notes"},
            {"prompt_tokens": 12, "path": "/api/v1/notes"},
        ),
    ],
)
def test_secrets_are_redacted(event: dict[str, Any], expected: dict[str, Any]) -> None:
    assert Redactor(max_chars=4096)(None, "info", event) == expected


async def test_redaction_applies_to_every_line(
    capsys: pytest.CaptureFixture[str], settings: Settings, serve: Serve
) -> None:
    app = app_with_failing_routes(settings.model_copy(update={"log_json": True}))
    async with serve(app) as client:
        await client.get("/health/live", headers={"Authorization": f"Bearer {JWT}"})
        structlog.get_logger("test").warning("login_failed", email="ada@example.com", token=JWT)

    output = capsys.readouterr().out
    assert JWT not in output
    assert "ada@" not in output
    assert "[redacted]@example.com" in output
