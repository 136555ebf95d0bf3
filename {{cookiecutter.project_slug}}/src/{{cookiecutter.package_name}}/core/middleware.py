"""Pure ASGI middleware (never ``BaseHTTPMiddleware``, which costs several times more).

``EdgeMiddleware`` sits inside the request ID middleware and does in one layer
what would otherwise take five, because every layer costs calls per ASGI message:

- refuses header sets over ``MAX_REQUEST_HEADERS`` fields or ``MAX_REQUEST_HEADER_BYTES``
  (431), before anything else looks at them;
- refuses a NUL character in the path, the query string or a URL-encoded form (422):
  no database stores it, and no text the service keeps needs it;
- reads the request body before the route does, within ``REQUEST_BODY_TIMEOUT``
  whatever its framing (408), refusing bodies over ``MAX_REQUEST_BODY_BYTES`` (413);
- answers 504 when the response has not started within ``REQUEST_TIMEOUT``
  (a streaming response, once started, is not cut off);
- times the request (``Server-Timing``) and adds the security headers;
- turns any exception that escaped the application into a 500 Problem Details
  response that reveals nothing but the request ID, and logs it with its traceback;
{% if cookiecutter.observability == "yes" %}
- reports that exception to error tracking (``core/error_tracking.py``), when it is on;
{% endif %}
- writes one access log line per request.
"""

import asyncio
import sys
import time
from http import HTTPStatus
from itertools import islice
from urllib.parse import parse_qsl

{% if cookiecutter.observability == "yes" %}
import sentry_sdk
{% endif %}
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.errors import (
    AppError,
    HeadersTooLargeError,
    InvalidRequestError,
    PayloadTooLargeError,
    RequestBodyTimeoutError,
    RequestTimeoutError,
    problem_response,
)
from {{ cookiecutter.package_name }}.core.problems import FieldError
from {{ cookiecutter.package_name }}.core.security import SECURITY_HEADERS

access_logger = structlog.get_logger("access")
error_logger = structlog.get_logger("error")

FORM = b"application/x-www-form-urlencoded"
NUL = "\x00"
NUL_MESSAGE = "Text may not contain the NUL character"
MAX_LENGTH_DIGITS = 19
# A form with thousands of NUL fields gets an answer the size of a few.
MAX_REPORTED_FIELDS = 10


class _Head:
    """What the edge needs from the request's headers, read in one pass."""

    __slots__ = ("chunked", "form", "length", "size")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.size = 0
        self.length: int | None = None
        self.chunked = self.form = False
        for name, value in headers:
            self.size += len(name) + len(value)
            if name == b"content-length" and value.isdigit():
                # More digits than any body has are as good as infinite (and int() refuses
                # strings of thousands of digits).
                self.length = int(value) if len(value) < MAX_LENGTH_DIGITS else sys.maxsize
            elif name == b"transfer-encoding":
                self.chunked = b"chunked" in value.lower()
            elif name == b"content-type":
                self.form = value.split(b";", 1)[0].strip().lower() == FORM


def _nul_errors(where: str, encoded: bytes) -> list[FieldError]:
    """An error for each of the first URL-encoded fields holding a NUL character."""
    fields = (field for field in encoded.split(b"&") if b"%00" in field or b"\x00" in field)
    first = b"&".join(islice(fields, MAX_REPORTED_FIELDS)).decode("latin-1")
    named = parse_qsl(first, keep_blank_values=True)
    return [
        FieldError(loc=[where, name], msg=NUL_MESSAGE, type="nul_character") for name, _ in named
    ] or [FieldError(loc=[where], msg=NUL_MESSAGE, type="nul_character")]


def _nul_error(errors: list[FieldError]) -> InvalidRequestError:
    return InvalidRequestError("The request is invalid; see errors.", errors=errors)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool] | None:
    """The request body and whether it is whole (not cut short by a disconnect).

    None as soon as it grows past ``limit`` bytes.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, whole: bool, receive: Receive) -> Receive:
    """A receive channel that yields ``body`` once, then defers to the real one.

    A body cut short is replayed as such: the next message is the disconnect.
    """
    pending = [{"type": "http.request", "body": body, "more_body": not whole}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        timeout: float,
        body_timeout: float,
        max_header_bytes: int,
        max_headers: int,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout = timeout
        self.body_timeout = body_timeout
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers

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
                errors=error.errors,
                headers=error.headers,
            )
            await response(scope, receive, send_with_headers)

        try:
            # Counted first: a request with thousands of headers is not read any further.
            if len(scope["headers"]) > self.max_headers:
                await answer(self._too_many_headers())
                return
            head = _Head(scope["headers"])
            if error := self._refuse(scope, head):
                await answer(error)
                return
            if head.chunked or head.length:
                try:
                    async with asyncio.timeout(self.body_timeout):
                        read = await _read_body(receive, self.max_body_bytes)
                except TimeoutError:
                    await answer(self._too_slow())
                    return
                if read is None:
                    await answer(self._too_large())
                    return
                body, whole = read
                if head.form and (b"%00" in body or b"\x00" in body):
                    await answer(_nul_error(_nul_errors("body", body)))
                    return
                receive = _replay(body, whole, receive)
            async with deadline:
                await self.app(scope, receive, send_from_app)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and deadline.expired():
                await answer(RequestTimeoutError(f"No response within {self.timeout:g}s."))
                return
            error_logger.exception("unhandled_error", method=scope["method"], path=scope["path"])
{% if cookiecutter.observability == "yes" %}
            sentry_sdk.capture_exception(exc)
{% endif %}
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

    def _refuse(self, scope: Scope, head: _Head) -> AppError | None:
        """Why the request is refused before its body is read, if it is."""
        if head.size > self.max_header_bytes:
            return self._too_many_headers()
        if NUL in scope["path"]:
            return _nul_error([FieldError(loc=["path"], msg=NUL_MESSAGE, type="nul_character")])
        query: bytes = scope["query_string"]
        if b"%00" in query or b"\x00" in query:
            return _nul_error(_nul_errors("query", query))
        if head.length is not None and head.length > self.max_body_bytes:
            return self._too_large()
        return None

    def _too_many_headers(self) -> HeadersTooLargeError:
        return HeadersTooLargeError(
            f"The request headers exceed {self.max_headers} fields or "
            f"{self.max_header_bytes} bytes."
        )

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(f"The request body exceeds {self.max_body_bytes} bytes.")

    def _too_slow(self) -> RequestBodyTimeoutError:
        return RequestBodyTimeoutError(
            f"The request body did not arrive within {self.body_timeout:g}s.",
            headers={"Connection": "close"},
        )
