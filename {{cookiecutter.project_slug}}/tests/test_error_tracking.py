"""Error tracking: an unhandled error reaches Sentry once, with its request ID, no secret.

The DSN points at an envelope receiver the test starts on 127.0.0.1: it gets what
Sentry would.
"""

import gzip
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sentry_sdk
from fastapi import APIRouter, FastAPI
from pydantic import SecretStr
from sentry_sdk.envelope import Envelope

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.logging import REDACTED
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve, make_settings

PASSWORD = "correct-horse-battery-staple"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVlLW9mLWEtdG9rZW4"


class EnvelopeReceiver(ThreadingHTTPServer):
    """Sentry's ingestion endpoint, as far as the SDK can tell: keeps every envelope."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EnvelopeHandler)
        self.envelopes: list[bytes] = []

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.server_address[1]}/1"

    def events(self) -> list[dict[str, Any]]:
        return [
            item.payload.json
            for body in self.envelopes
            for item in Envelope.deserialize(body).items
            if item.type == "event" and item.payload.json is not None
        ]


class _EnvelopeHandler(BaseHTTPRequestHandler):
    server: EnvelopeReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.append(body)
        self.send_response(HTTPStatus.OK)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads what arrived."""


@pytest.fixture
def receiver() -> Iterator[EnvelopeReceiver]:
    server = EnvelopeReceiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        # The SDK is process-wide: later tests get it off again.
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        server.shutdown()
        server.server_close()


def failing_app(settings: Settings) -> FastAPI:
    """The app with a route that fails, saying what the request carried."""
    router = APIRouter()

    @router.post("/fail")
    async def fail(credentials: dict[str, str]) -> None:
        msg = f"The upstream refused Bearer {credentials['password']}"
        raise RuntimeError(msg)

    app = create_app(settings)
    app.include_router(router)
    return app


async def test_an_unhandled_error_reaches_sentry_once_with_its_request_id(
    serve: Serve, receiver: EnvelopeReceiver
) -> None:
{% if cookiecutter.llm != "none" %}
    # Request bodies are only sent when prompts may be: then they are redacted.
    settings = make_settings(sentry_dsn=SecretStr(receiver.dsn), llm_log_content=True)
{% else %}
    settings = make_settings(sentry_dsn=SecretStr(receiver.dsn))
{% endif %}
    async with serve(failing_app(settings)) as client:
        response = await client.post(
            "/fail",
            json={"username": "ada", "password": PASSWORD},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    sentry_sdk.flush(timeout=5)

    assert response.status_code == 500
    [event] = receiver.events()
    assert event["tags"]["request_id"] == response.headers["X-Request-ID"]
    assert event["environment"] == "test"
    assert event["release"] == __version__
    [error] = event["exception"]["values"]
    assert error["type"] == "RuntimeError"
    assert error["value"] == f"The upstream refused Bearer {REDACTED}"
    assert event["request"]["data"] == {"username": "ada", "password": REDACTED}
    assert all("vars" not in frame for frame in error["stacktrace"]["frames"])
    sent = b"".join(receiver.envelopes)
    assert PASSWORD.encode() not in sent
    assert TOKEN.encode() not in sent
{% if cookiecutter.llm != "none" %}


async def test_request_bodies_hold_prompts_so_they_stay_home_by_default(
    serve: Serve, receiver: EnvelopeReceiver
) -> None:
    settings = make_settings(sentry_dsn=SecretStr(receiver.dsn))

    async with serve(failing_app(settings)) as client:
        response = await client.post("/fail", json={"password": PASSWORD, "prompt": "My diagnosis"})
    sentry_sdk.flush(timeout=5)

    assert response.status_code == 500
    [event] = receiver.events()
    assert "data" not in event["request"]
    assert b"My diagnosis" not in b"".join(receiver.envelopes)
{% endif %}
