{% set anthropic = cookiecutter.llm in ["anthropic", "anthropic_and_openai"] %}
{% set openai = cookiecutter.llm in ["openai", "anthropic_and_openai"] %}
{% set rag = cookiecutter.rag == "yes" %}
{% set voyage = rag and anthropic %}
"""A local stand-in for the providers' HTTP APIs, speaking their real wire protocols.

The real SDKs are pointed at it through their base URL. Each provider answers
from a script of replies (``will``), then with its default reply, and keeps
what it was sent. Served by uvicorn on an ephemeral port of 127.0.0.1.
"""

import asyncio
{% if rag %}
import hashlib
{% endif %}
import json
{% if rag %}
import math
import re
{% endif %}
import socket
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

CREATED = 1_767_225_600
{% if rag %}
WORD = re.compile(r"\w+")
{% endif %}


@dataclass
class Reply:
    """One answer of the stub. ``input_tokens`` counts every input token, cached or not."""

    text: str = "The quick brown fox"
    input_tokens: int = 20
    output_tokens: int = 4
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    fail_midway: bool = False
    """Streams: an error event right after the first piece of text."""
    malformed: bool = False
    """Garbage instead of the answer (or of the first stream event)."""
    hold: bool = False
    """Wait for ``release()``: before answering, or, in a stream, after the first piece."""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Tools the model calls after its text, by name and arguments (then it stops for them)."""
    raw_arguments: str | None = None
    """The first tool call's arguments as this text instead (malformed JSON, say)."""
    reasoning_tokens: int = 0
    """The part of ``output_tokens`` spent thinking."""
    refusal: str | None = None
    """OpenAI: the model refuses, with this explanation, instead of answering."""


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]


class StubProvider:
    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.default = Reply()
        self.received: list[Received] = []
        self.counted: list[dict[str, Any]] = []
        """Bodies sent to a token-counting endpoint."""
        self.count_status = 200
        self.released = asyncio.Event()
{% if cookiecutter.auth != "none" %}
        self.arrived = asyncio.Event()
        """Set when a request arrived."""
{% endif %}
        self.disconnected = asyncio.Event()
        """Set when a client went away in the middle of a stream."""
        self.models_status = 200

    def will(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def release(self) -> None:
        self.released.set()

    async def take(self, request: Request) -> tuple[Reply, dict[str, Any]]:
        body: dict[str, Any] = await request.json()
        self.received.append(Received(dict(request.headers), body))
{% if cookiecutter.auth != "none" %}
        self.arrived.set()
{% endif %}
        return (self.script.popleft() if self.script else self.default), body

    async def watched(self, frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        try:
            async for frame in frames:
                yield frame
        except asyncio.CancelledError:
            self.disconnected.set()
            raise


def sse(data: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [words[0], *(f" {word}" for word in words[1:])]
{% if anthropic %}


ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def anthropic_tool_uses(reply: Reply) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (f"toolu_stub_{index}", name, arguments)
        for index, (name, arguments) in enumerate(reply.tool_calls)
    ]


def anthropic_stop_reason(reply: Reply) -> str:
    return "tool_use" if reply.tool_calls else "end_turn"


def anthropic_refusal(body: dict[str, Any]) -> str | None:
    """What the real API refuses with a 400 that the service must never send."""
    if "thinking" in body and "temperature" in body:
        return "temperature may not be set with thinking"
    asked: set[str] = set()
    for message in body["messages"]:
        content = message["content"]
        blocks = content if isinstance(content, list) else []
        if message["role"] == "assistant":
            asked = {block["id"] for block in blocks if block["type"] == "tool_use"}
            continue
        for block in blocks:
            if block["type"] == "tool_result" and block["tool_use_id"] not in asked:
                return f"tool_result {block['tool_use_id']} answers no tool_use"
        asked = set()
    return None


async def anthropic_events(
    stub: StubProvider, reply: Reply, model: str, usage: dict[str, Any]
) -> AsyncIterator[bytes]:
    if reply.malformed:
        yield b"event: message_start\ndata: {not json\n\n"
        return
    message: dict[str, Any] = {
        "id": "msg_stub",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    yield sse({"type": "message_start", "message": message}, "message_start")
    block = {"type": "text", "text": ""}
    yield sse(
        {"type": "content_block_start", "index": 0, "content_block": block}, "content_block_start"
    )
    yield sse({"type": "ping"}, "ping")
    for index, piece in enumerate(pieces(reply.text)):
        delta = {"type": "text_delta", "text": piece}
        yield sse(
            {"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta"
        )
        if index == 0 and reply.fail_midway:
            error = {"type": "overloaded_error", "message": "Overloaded"}
            yield sse({"type": "error", "error": error}, "error")
            return
        if index == 0 and reply.hold:
            await stub.released.wait()
    yield sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    for index, (tool_id, name, arguments) in enumerate(anthropic_tool_uses(reply), start=1):
        tool_use = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
        yield sse(
            {"type": "content_block_start", "index": index, "content_block": tool_use},
            "content_block_start",
        )
        delta = {"type": "input_json_delta", "partial_json": json.dumps(arguments)}
        yield sse(
            {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
        )
        yield sse({"type": "content_block_stop", "index": index}, "content_block_stop")
    yield sse(
        {
            "type": "message_delta",
            "delta": {"stop_reason": anthropic_stop_reason(reply), "stop_sequence": None},
            "usage": {
                "output_tokens": reply.output_tokens,
                "output_tokens_details": {"thinking_tokens": reply.reasoning_tokens},
            },
        },
        "message_delta",
    )
    yield sse({"type": "message_stop"}, "message_stop")


def anthropic_error(status: int, message: str, headers: dict[str, str]) -> Response:
    error = {"type": ANTHROPIC_ERRORS.get(status, "api_error"), "message": message}
    return JSONResponse({"type": "error", "error": error}, status_code=status, headers=headers)


async def anthropic_messages(stub: StubProvider, request: Request) -> Response:
    reply, body = await stub.take(request)
    if refusal := anthropic_refusal(body):
        return anthropic_error(400, refusal, {})
    if reply.status != 200:
        return anthropic_error(reply.status, "Stub says no", reply.headers)
    usage = {
        "input_tokens": reply.input_tokens - reply.cache_read_tokens - reply.cache_write_tokens,
        "output_tokens": reply.output_tokens,
        "cache_read_input_tokens": reply.cache_read_tokens,
        "cache_creation_input_tokens": reply.cache_write_tokens,
        "output_tokens_details": {"thinking_tokens": reply.reasoning_tokens},
    }
    if body.get("stream"):
        events = anthropic_events(stub, reply, body["model"], usage)
        return StreamingResponse(stub.watched(events), media_type="text/event-stream")
    if reply.hold:
        await stub.released.wait()
    if reply.malformed:
        return Response("{not json", media_type="application/json")
    message = {
        "id": "msg_stub",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [
            *([{"type": "text", "text": reply.text}] if reply.text else []),
            *(
                {"type": "tool_use", "id": tool_id, "name": name, "input": arguments}
                for tool_id, name, arguments in anthropic_tool_uses(reply)
            ),
        ],
        "stop_reason": anthropic_stop_reason(reply),
        "stop_sequence": None,
        "usage": usage,
    }
    return JSONResponse(message, headers={"request-id": "req_stub"})


async def anthropic_count_tokens(stub: StubProvider, request: Request) -> Response:
    """A deterministic count: a token per four characters of what would be sent."""
    body: dict[str, Any] = await request.json()
    stub.counted.append(body)
    sent = json.dumps([body.get("system"), body["messages"], body.get("tools")])
    return JSONResponse({"input_tokens": len(sent) // 4})


async def anthropic_models(stub: StubProvider, request: Request) -> Response:
    model = {"type": "model", "id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5"}
    page = {"data": [model], "has_more": False, "first_id": model["id"], "last_id": model["id"]}
    return JSONResponse(page, status_code=stub.models_status)
{% endif %}
{% if openai %}


OPENAI_TRANSIENT = "server_error"


def openai_error(
    status: int, message: str = "Stub says no", headers: dict[str, str] | None = None
) -> Response:
    error = {"message": message, "type": "stub_error", "param": None, "code": None}
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def openai_arguments(reply: Reply) -> list[str]:
    """Each tool call's arguments as JSON text (the first one raw, when the reply says so)."""
    arguments = [json.dumps(args) for _, args in reply.tool_calls]
    if arguments and reply.raw_arguments is not None:
        arguments[0] = reply.raw_arguments
    return arguments


def halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [part for part in (text[:middle], text[middle:]) if part]


def chat_problem(messages: list[dict[str, Any]]) -> str | None:
    """Why OpenAI would refuse these messages: tool results must answer the calls before."""
    expected: set[str] = set()
    for message in messages:
        if message.get("role") == "tool":
            if message.get("tool_call_id") not in expected:
                return "messages with role 'tool' must answer a preceding 'tool_calls'"
            expected.discard(message["tool_call_id"])
        elif expected:
            return "an assistant message with 'tool_calls' must be followed by their results"
        elif message.get("tool_calls") == []:
            return "[] is too short - 'tool_calls'"
        else:
            expected = {call["id"] for call in message.get("tool_calls") or ()}
    return "tool calls without results" if expected else None


def chat_usage(reply: Reply) -> dict[str, Any]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "prompt_tokens_details": {"cached_tokens": reply.cache_read_tokens},
        "completion_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
    }


def chat_finish_reason(reply: Reply, body: dict[str, Any]) -> str:
    if reply.output_tokens > body.get("max_completion_tokens", reply.output_tokens):
        return "length"
    return "tool_calls" if reply.tool_calls else "stop"


async def chat_events(
    stub: StubProvider, reply: Reply, body: dict[str, Any], with_usage: bool
) -> AsyncIterator[bytes]:
    if reply.malformed:
        yield b"data: {not json\n\n"
        return

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": body["model"],
            "choices": [choice],
        }

    yield sse(chunk({"role": "assistant", "content": ""}))
    if reply.refusal:
        yield sse(chunk({"refusal": reply.refusal}))
    for index, piece in enumerate(pieces(reply.text) if not reply.refusal else []):
        yield sse(chunk({"content": piece}))
        if index == 0 and reply.fail_midway:
            error = {"message": "The server had an error", "type": OPENAI_TRANSIENT}
            yield sse({"error": {**error, "param": None, "code": None}})
            return
        if index == 0 and reply.hold:
            await stub.released.wait()
    for index, ((name, _), arguments) in enumerate(
        zip(reply.tool_calls, openai_arguments(reply), strict=True)
    ):
        function = {"name": name, "arguments": ""}
        start = {"index": index, "id": f"call_stub_{index}", "type": "function"}
        yield sse(chunk({"tool_calls": [{**start, "function": function}]}))
        for part in halves(arguments):
            yield sse(chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
    yield sse(chunk({}, chat_finish_reason(reply, body)))
    if with_usage:
        last = chunk({})
        yield sse({**last, "choices": [], "usage": chat_usage(reply)})
    yield b"data: [DONE]\n\n"


async def openai_chat_completions(stub: StubProvider, request: Request) -> Response:
    reply, body = await stub.take(request)
    if problem := chat_problem(body["messages"]):
        return openai_error(400, problem)
    if reply.status != 200:
        return openai_error(reply.status, headers=reply.headers)
    if body.get("stream"):
        with_usage = bool(body.get("stream_options", {}).get("include_usage"))
        events = chat_events(stub, reply, body, with_usage)
        return StreamingResponse(stub.watched(events), media_type="text/event-stream")
    if reply.hold:
        await stub.released.wait()
    if reply.malformed:
        return Response("{not json", media_type="application/json")
    calls = [
        {
            "id": f"call_stub_{index}",
            "type": "function",
            "function": {"name": name, "arguments": args},
        }
        for index, ((name, _), args) in enumerate(
            zip(reply.tool_calls, openai_arguments(reply), strict=True)
        )
    ]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if reply.refusal else reply.text or None,
        "refusal": reply.refusal,
    }
    if calls:
        message["tool_calls"] = calls
    choice = {
        "index": 0,
        "message": message,
        "finish_reason": chat_finish_reason(reply, body),
        "logprobs": None,
    }
    completion = {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": CREATED,
        "model": body["model"],
        "choices": [choice],
        "usage": chat_usage(reply),
    }
    return JSONResponse(completion)


RESPONSE_INPUT_TYPES = frozenset({"message", "function_call", "function_call_output", "reasoning"})


def responses_problem(body: dict[str, Any]) -> str | None:
    """Why OpenAI would refuse this request (only what these tests can get wrong)."""
    stored = body.get("store", True)
    called: set[str] = set()
    for item in body["input"] if isinstance(body["input"], list) else []:
        kind = item.get("type", "message")
        if kind not in RESPONSE_INPUT_TYPES:
            return f"unknown input item type {kind!r}"
        if not stored and "id" in item:
            return f"item with id {item['id']!r} not found: not persisted with store=false"
        if kind == "function_call":
            called.add(item["call_id"])
        elif kind == "function_call_output" and item["call_id"] not in called:
            return f"no tool call found for function call output with call_id {item['call_id']}"
        elif kind == "reasoning" and "encrypted_content" not in item:
            return "a reasoning item needs its id (stored) or its encrypted_content"
    return None


def response_usage(reply: Reply) -> dict[str, Any]:
    return {
        "input_tokens": reply.input_tokens,
        "input_tokens_details": {
            "cached_tokens": reply.cache_read_tokens,
            "cache_write_tokens": reply.cache_write_tokens,
        },
        "output_tokens": reply.output_tokens,
        "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
        "total_tokens": reply.input_tokens + reply.output_tokens,
    }


def response_items(reply: Reply, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The output items of a reply: its reasoning, its message, its tool calls."""
    items: list[dict[str, Any]] = []
    if reply.reasoning_tokens:
        reasoning: dict[str, Any] = {"type": "reasoning", "id": "rs_stub", "summary": []}
        if "reasoning.encrypted_content" in body.get("include", []):
            reasoning["encrypted_content"] = "gAAAAB-stub-reasoning"
        items.append(reasoning)
    content: dict[str, Any] = {"type": "refusal", "refusal": reply.refusal}
    if not reply.refusal:
        content = {"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}
    if reply.text or reply.refusal:
        items.append(
            {
                "type": "message",
                "id": "msg_stub",
                "status": "completed",
                "role": "assistant",
                "content": [content],
            }
        )
    items.extend(
        {
            "type": "function_call",
            "id": f"fc_stub_{index}",
            "call_id": f"call_stub_{index}",
            "name": name,
            "arguments": arguments,
            "status": "completed",
        }
        for index, ((name, _), arguments) in enumerate(
            zip(reply.tool_calls, openai_arguments(reply), strict=True)
        )
    )
    return items


def response_object(reply: Reply, body: dict[str, Any], *, done: bool = True) -> dict[str, Any]:
    status, incomplete = "completed", None
    if reply.output_tokens > body.get("max_output_tokens", reply.output_tokens):
        status, incomplete = "incomplete", {"reason": "max_output_tokens"}
    return {
        "id": "resp_stub",
        "object": "response",
        "created_at": CREATED,
        "status": status if done else "in_progress",
        "error": None,
        "incomplete_details": incomplete if done else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body["model"],
        "output": response_items(reply, body) if done else [],
        "parallel_tool_calls": True,
        "store": False,
        "temperature": body.get("temperature", 1.0),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "usage": response_usage(reply) if done else None,
    }


async def response_events(
    stub: StubProvider, reply: Reply, body: dict[str, Any]
) -> AsyncIterator[bytes]:
    if reply.malformed:
        yield b"event: response.created\ndata: {not json\n\n"
        return
    sequence = 0

    def event(kind: str, **data: Any) -> bytes:
        nonlocal sequence
        sequence += 1
        return sse({"type": kind, "sequence_number": sequence - 1, **data}, kind)

    yield event("response.created", response=response_object(reply, body, done=False))
    yield event("response.in_progress", response=response_object(reply, body, done=False))
    for index, item in enumerate(response_items(reply, body)):
        at = {"output_index": index}
        if item["type"] == "message":
            yield event("response.output_item.added", **at, item={**item, "content": []})
            part = {"item_id": item["id"], **at, "content_index": 0}
            content = item["content"][0]
            empty = {**content, ("refusal" if reply.refusal else "text"): ""}
            yield event("response.content_part.added", **part, part=empty)
            if reply.refusal:
                yield event("response.refusal.delta", **part, delta=reply.refusal)
                yield event("response.refusal.done", **part, refusal=reply.refusal)
            for number, piece in enumerate(pieces(reply.text) if not reply.refusal else []):
                yield event("response.output_text.delta", **part, delta=piece, logprobs=[])
                if number == 0 and reply.fail_midway:
                    yield event("error", code=OPENAI_TRANSIENT, message="The server had an error")
                    return
                if number == 0 and reply.hold:
                    await stub.released.wait()
            if not reply.refusal:
                yield event("response.output_text.done", **part, text=reply.text, logprobs=[])
            yield event("response.content_part.done", **part, part=content)
        elif item["type"] == "function_call":
            started = {**item, "arguments": "", "status": "in_progress"}
            yield event("response.output_item.added", **at, item=started)
            for piece in halves(item["arguments"]):
                yield event(
                    "response.function_call_arguments.delta", item_id=item["id"], **at, delta=piece
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                **at,
                name=item["name"],
                arguments=item["arguments"],
            )
        else:
            yield event("response.output_item.added", **at, item=item)
        yield event("response.output_item.done", **at, item=item)
    final = response_object(reply, body)
    yield event(f"response.{final['status']}", response=final)


async def openai_responses(stub: StubProvider, request: Request) -> Response:
    reply, body = await stub.take(request)
    if problem := responses_problem(body):
        return openai_error(400, problem)
    if reply.status != 200:
        return openai_error(reply.status, headers=reply.headers)
    if body.get("stream"):
        events = response_events(stub, reply, body)
        return StreamingResponse(stub.watched(events), media_type="text/event-stream")
    if reply.hold:
        await stub.released.wait()
    if reply.malformed:
        return Response("{not json", media_type="application/json")
    return JSONResponse(response_object(reply, body))


async def openai_input_tokens(stub: StubProvider, request: Request) -> Response:
    """A deterministic count: a token per four characters of what would be sent."""
    body: dict[str, Any] = await request.json()
    stub.counted.append(body)
    if stub.count_status != 200:
        return openai_error(stub.count_status, headers={})
    sent = json.dumps([body.get("instructions"), body["input"], body.get("tools")])
    return JSONResponse({"object": "response.input_tokens", "input_tokens": len(sent) // 4})


async def openai_models(stub: StubProvider, request: Request) -> Response:
    model = {"id": "gpt-4.1-mini", "object": "model", "created": CREATED, "owned_by": "openai"}
    return JSONResponse({"object": "list", "data": [model]}, status_code=stub.models_status)
{% endif %}
{% if rag %}


def embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic embedding in which texts sharing words, or parts of words, are near:
    each word and its character trigrams add 1 or -1 to a hashed dimension.
    """
    vector = [0.0] * dimensions
    for word in WORD.findall(text.lower()):
        padded = f"^{word}$"
        for feature in [word] + [padded[i : i + 3] for i in range(len(padded) - 2)]:
            digest = hashlib.sha256(feature.encode()).digest()
            vector[int.from_bytes(digest[:4], "little") % dimensions] += 1 if digest[4] & 1 else -1
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / norm for value in vector]


def embedded(body: dict[str, Any], dimensions_key: str) -> tuple[list[list[float]], int]:
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    dimensions = body.get(dimensions_key) or 1024
    return [embedding(text, dimensions) for text in texts], sum(
        len(WORD.findall(text)) for text in texts
    )
{% endif %}
{% if rag and openai %}


async def openai_embeddings(stub: StubProvider, request: Request) -> Response:
    reply, body = await stub.take(request)
    if reply.status != 200:
        return openai_error(reply.status, "embedding failed", reply.headers)
    vectors, tokens = embedded(body, "dimensions")
    data = [
        {"object": "embedding", "index": index, "embedding": vector}
        for index, vector in enumerate(vectors)
    ]
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )
{% endif %}
{% if voyage %}


async def voyage_embeddings(stub: StubProvider, request: Request) -> Response:
    reply, body = await stub.take(request)
    if reply.status != 200:
        return JSONResponse({"detail": "embedding failed"}, status_code=reply.status)
    vectors, tokens = embedded(body, "output_dimension")
    data = [
        {"object": "embedding", "index": index, "embedding": vector}
        for index, vector in enumerate(vectors)
    ]
    return JSONResponse(
        {"object": "list", "data": data, "model": body["model"], "usage": {"total_tokens": tokens}}
    )
{% endif %}


class ProviderStub:
    def __init__(self) -> None:
{% if anthropic %}
        self.anthropic = StubProvider()
{% endif %}
{% if openai %}
        self.openai = StubProvider()
{% endif %}
{% if rag %}
        self.embeddings = StubProvider()
        """Both embedding APIs answer from this one's script."""
{% endif %}
        self.url = ""

    def __getitem__(self, provider: str) -> StubProvider:
        stub: StubProvider = getattr(self, provider)
        return stub

    def app(self) -> Starlette:
        def route(path: str, handler: Any, stub: StubProvider, method: str) -> Route:
            async def endpoint(request: Request) -> Response:
                response: Response = await handler(stub, request)
                return response

            return Route(path, endpoint, methods=[method])

        return Starlette(
            routes=[
{% if anthropic %}
                Mount(
                    "/anthropic/v1",
                    routes=[
                        route("/messages", anthropic_messages, self.anthropic, "POST"),
                        route(
                            "/messages/count_tokens",
                            anthropic_count_tokens,
                            self.anthropic,
                            "POST",
                        ),
                        route("/models", anthropic_models, self.anthropic, "GET"),
                    ],
                ),
{% endif %}
{% if openai %}
                Mount(
                    "/openai/v1",
                    routes=[
                        route("/responses", openai_responses, self.openai, "POST"),
                        route("/responses/input_tokens", openai_input_tokens, self.openai, "POST"),
                        route("/chat/completions", openai_chat_completions, self.openai, "POST"),
                        route("/models", openai_models, self.openai, "GET"),
{% if rag %}
                        route("/embeddings", openai_embeddings, self.embeddings, "POST"),
{% endif %}
                    ],
                ),
{% endif %}
{% if voyage %}
                Mount(
                    "/voyage/v1",
                    routes=[route("/embeddings", voyage_embeddings, self.embeddings, "POST")],
                ),
{% endif %}
            ]
        )

    def release_all(self) -> None:
{% if anthropic %}
        self.anthropic.release()
{% endif %}
{% if openai %}
        self.openai.release()
{% endif %}
{% if rag %}
        self.embeddings.release()
{% endif %}


class Switchboard:
    """An ASGI app that hands every request to the app plugged in now.

    One server serves the whole test session (starting and stopping a server per test
    costs a fifth of a second); each test plugs in an app (or a stub) of its own.
    """

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            msg = "no app is plugged in"
            raise RuntimeError(msg)
        await self.app(scope, receive, send)

    @contextmanager
    def plugged(self, app: ASGIApp) -> Iterator[None]:
        """Hand every request to ``app`` for the block."""
        self.app = app
        try:
            yield
        finally:
            self.app = None


@asynccontextmanager
async def serve_over_http(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1; yield its base URL.

    The socket listens before the server starts, so clients may connect at once.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        log_level="warning",
        ws="none",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
