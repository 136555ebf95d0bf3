"""One hostile request never stalls the service: it is refused early and cheaply.

A body that keeps trickling in gets 408 (``REQUEST_BODY_TIMEOUT``), whatever its framing;
header sets over ``MAX_REQUEST_HEADERS`` fields or ``MAX_REQUEST_HEADER_BYTES`` get 431; a
NUL character in the path, the query string or a URL-encoded form gets 422 before any
route runs; a path as long as the server takes is logged cut, while the requests next
to it go on being answered.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from fastapi import FastAPI, Request
from httpx import AsyncClient
from starlette.types import Message

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve, Start

# Header fields every request has by the time the limits are checked: the client's host,
# accept, accept-encoding, connection and user-agent, and the X-Request-ID of the service.
BASE_HEADERS = 6


def hostile_app(settings: Settings) -> FastAPI:
    app = create_app(settings.model_copy(update={"log_json": True}))

    @app.get("/search")
    async def search(q: str) -> dict[str, str]:
        return {"q": q}

    @app.get("/names/{name}")
    async def name(name: str) -> dict[str, str]:
        return {"name": name}

    @app.post("/form")
    async def form(request: Request) -> dict[str, str]:
        """Reads the form itself: parsing one needs python-multipart, not in every bake."""
        return dict(parse_qsl((await request.body()).decode()))

    @app.post("/echo")
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    return app


@pytest.fixture
async def hostile(settings: Settings, serve: Serve) -> AsyncIterator[AsyncClient]:
    async with serve(hostile_app(settings)) as http:
        yield http


def access_lines(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if line["event"] == "request"]


async def test_a_long_path_full_of_at_signs_is_logged_cut_and_stalls_no_one(
    hostile: AsyncClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # Its redaction took the worker 32 s once: the email pattern backtracked.
    path = "/x@" + "b" * 60_000

    long, live = await asyncio.wait_for(
        asyncio.gather(hostile.get(path), hostile.get("/health/live")), timeout=30
    )

    assert (long.status_code, live.status_code) == (404, 200)
    lines = access_lines(capsys.readouterr().out)
    [logged] = [line["path"] for line in lines if line["status"] == 404]
    assert len(logged) <= settings.log_max_value_chars + 30
    assert logged.endswith("more characters]")


@pytest.mark.parametrize(
    ("url", "loc"),
    [
        ("/search?q=a%00b", ["query", "q"]),
        ("/search?q=ok&q%00=x", ["query", "q\x00"]),
        ("/names/a%00b", ["path"]),
    ],
)
async def test_a_nul_character_in_the_url_is_a_422(
    hostile: AsyncClient, url: str, loc: list[str]
) -> None:
    response = await hostile.get(url)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [error["loc"] for error in problem["errors"]] == [loc]


async def test_a_nul_character_in_a_form_is_a_422(hostile: AsyncClient) -> None:
    response = await hostile.post("/form", data={"name": "victim\x00@example.com"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "name"]


async def test_a_form_full_of_nul_characters_gets_a_short_answer(hostile: AsyncClient) -> None:
    form = "&".join(f"name{i}=%00" for i in range(50_000))

    response = await hostile.post(
        "/form", content=form, headers={"content-type": "application/x-www-form-urlencoded"}
    )

    assert response.status_code == 422
    assert len(response.json()["errors"]) == 10


async def test_text_without_nul_characters_is_served(hostile: AsyncClient) -> None:
    search = await hostile.get("/search", params={"q": "100% sure, 0 doubts"})
    form = await hostile.post("/form", data={"name": "Ada %00"})

    assert search.json() == {"q": "100% sure, 0 doubts"}
    assert form.json() == {"name": "Ada %00"}


async def test_too_many_header_fields_are_refused_with_431(
    hostile: AsyncClient, settings: Settings
) -> None:
    headers = [(f"x-field-{i}", "v") for i in range(settings.max_request_headers)]

    response = await hostile.get("/health/live", headers=headers)

    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "headers_too_large"


async def test_headers_over_the_byte_limit_are_refused_with_431(
    hostile: AsyncClient, settings: Settings
) -> None:
    response = await hostile.get(
        "/health/live", headers={"X-Padding": "a" * settings.max_request_header_bytes}
    )

    assert response.status_code == 431
    assert response.json()["code"] == "headers_too_large"


async def test_headers_within_the_limits_are_served(
    hostile: AsyncClient, settings: Settings
) -> None:
    count = settings.max_request_headers - BASE_HEADERS
    size = settings.max_request_header_bytes // settings.max_request_headers // 2
    headers = [(f"x-field-{i}", "v" * size) for i in range(count)]

    response = await hostile.get("/health/live", headers=headers)

    assert response.status_code == 200


def post_scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def send_to(
    start: Start, app: FastAPI, scope: dict[str, Any], chunks: list[bytes] | None, delay: float
) -> list[Message]:
    """Drive the app as a server would, for a client sending a chunk every ``delay`` s.

    With ``chunks`` None the client trickles one byte at a time, forever.
    """
    sent: list[Message] = []
    queue = list(chunks) if chunks is not None else None

    async def receive() -> Message:
        if queue == []:
            await asyncio.Event().wait()  # nothing more: the client waits for the answer
        await asyncio.sleep(delay)
        if queue is None:
            return {"type": "http.request", "body": b" ", "more_body": True}
        return {"type": "http.request", "body": queue.pop(0), "more_body": bool(queue)}

    async def send(message: Message) -> None:
        sent.append(message)

    async with start(app) as served:
        # Generous: only a request that is never cut off fails here.
        await asyncio.wait_for(served(scope, receive, send), timeout=20)
    return sent


@pytest.mark.parametrize(
    "framing",
    [(b"transfer-encoding", b"chunked"), (b"content-length", b"1000")],
    ids=["chunked", "content-length"],
)
async def test_a_body_that_trickles_in_is_cut_off_with_408(
    settings: Settings, start: Start, framing: tuple[bytes, bytes]
) -> None:
    app = hostile_app(settings.model_copy(update={"request_body_timeout": 0.15}))

    sent = await send_to(start, app, post_scope(framing), chunks=None, delay=0.02)

    head, body = sent[0], sent[1]
    assert head["status"] == 408
    assert (b"connection", b"close") in head["headers"]
    assert json.loads(body["body"])["code"] == "body_timeout"


async def test_a_body_sent_in_slow_chunks_within_the_timeout_is_served(
    settings: Settings, start: Start
) -> None:
    app = hostile_app(settings.model_copy(update={"request_body_timeout": 5.0}))
    chunks = [b'{"note":', b' "slow', b' but whole"}']

    sent = await send_to(
        start, app, post_scope((b"transfer-encoding", b"chunked")), chunks=chunks, delay=0.05
    )

    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"]) == {"note": "slow but whole"}
