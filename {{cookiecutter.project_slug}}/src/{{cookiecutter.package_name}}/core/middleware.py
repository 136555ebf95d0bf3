"""Pure ASGI middleware (never ``BaseHTTPMiddleware``, which costs several times more).

``EdgeMiddleware`` sits inside the request ID middleware and does in one layer
what would otherwise take five, because every layer costs calls per ASGI message:

- refuses request bodies over ``MAX_REQUEST_BODY_BYTES`` (413);
- answers 504 when the response has not started within ``REQUEST_TIMEOUT``
  (a streaming response, once started, is not cut off);
- times the request (``Server-Timing``) and adds the security headers;
- turns any exception that escaped the application into a 500 Problem Details
  response that reveals nothing but the request ID, and logs it with its traceback;
- writes one access log line per request.
"""

import asyncio
import time
from http import HTTPStatus

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.errors import (
    AppError,
    PayloadTooLargeError,
    RequestTimeoutError,
    problem_response,
)
from {{ cookiecutter.package_name }}.core.security import SECURITY_HEADERS

access_logger = structlog.get_logger("access")
error_logger = structlog.get_logger("error")


def _declared_body(scope: Scope) -> tuple[int | None, bool]:
    """The request's Content-Length (None when absent) and whether it is chunked."""
    length, chunked = None, False
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = int(value) if value.isdigit() else None
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    return length, chunked


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it grows past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that yields ``body`` once, then defers to the real one."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
        status = HTTPStatus.INTERNAL_SERVER_ERROR.value
        response_started = False
        deadline = asyncio.timeout(self.timeout)

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                elapsed_ms = (time.perf_counter() - start) * 1000
                message["headers"] = [
                    *message.get("headers", ()),
                    *SECURITY_HEADERS,
                    (b"server-timing", f"app;dur={elapsed_ms:.1f}".encode()),
                ]
            await send(message)

        async def send_from_app(message: Message) -> None:
            if message["type"] == "http.response.start":
                deadline.reschedule(None)
            await send_with_headers(message)

        async def answer(error: AppError) -> None:
            response = problem_response(
                status=error.status_code,
                code=error.code,
                detail=error.detail,
                instance=scope["path"],
                headers=error.headers,
            )
            await response(scope, receive, send_with_headers)

        try:
            length, chunked = _declared_body(scope)
            if length is not None and length > self.max_body_bytes:
                await answer(self._too_large())
                return
            if chunked:
                body = await _read_body(receive, self.max_body_bytes)
                if body is None:
                    await answer(self._too_large())
                    return
                receive = _replay(body, receive)
            async with deadline:
                await self.app(scope, receive, send_from_app)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and deadline.expired():
                await answer(RequestTimeoutError(f"No response within {self.timeout:g}s."))
                return
            error_logger.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if response_started:
                raise
            await answer(AppError("An unexpected error occurred."))
        finally:
            access_logger.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - start) * 1000, 2),
            )

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(f"The request body exceeds {self.max_body_bytes} bytes.")
