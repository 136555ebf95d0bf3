"""Pure ASGI middleware (never ``BaseHTTPMiddleware``, which costs several times more).

``EdgeMiddleware`` is the service's own middleware: it does in one layer what would
otherwise take six, because every layer costs calls per ASGI message:

- gives the request its ID: the ``X-Request-ID`` it came with when that is a valid
  UUID, a new one otherwise; echoes it in the response and sets the ``correlation_id``
  context variable that logs, problems and the audit trail read;
- refuses header sets over ``MAX_REQUEST_HEADERS`` fields or ``MAX_REQUEST_HEADER_BYTES``
  (431), before anything else looks at them;
- refuses a NUL character in the path, the query string or a URL-encoded form (422):
  no database stores it, and no text the service keeps needs it;
- reads the request body before the route does, within ``REQUEST_BODY_TIMEOUT``
  whatever its framing (408), refusing bodies over ``MAX_REQUEST_BODY_BYTES`` (413);
- answers 504 when the response has not started within ``REQUEST_TIMEOUT``
  (a streaming response, once started, is not cut off);
- answers CORS preflight requests and adds the CORS headers for ``CORS_ORIGINS``
  (as Starlette's ``CORSMiddleware`` does, whose policy it uses);
- times the request (``Server-Timing``) and adds the security headers;
- turns any exception that escaped the application into a 500 Problem Details
  response that reveals nothing but the request ID, and logs it with its traceback;
{% if cookiecutter.observability == "yes" %}
- reports that exception to error tracking (``core/error_tracking.py``), when it is on;
- counts and times the request by method, route template and status (``core/metrics.py``);
- makes the request a server span of its trace, when tracing is on (``core/server_spans.py``);
{% endif %}
- writes one access log line per request (``core/logging.py``'s ``AccessLog``).
"""

import asyncio
import sys
import time
import uuid
from collections.abc import Sequence
from http import HTTPStatus
from itertools import islice
from urllib.parse import parse_qsl

{% if cookiecutter.observability == "yes" %}
import sentry_sdk
{% endif %}
import structlog
from asgi_correlation_id import correlation_id
from asgi_correlation_id.middleware import is_valid_uuid4
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
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
from {{ cookiecutter.package_name }}.core.logging import AccessLog
{% if cookiecutter.observability == "yes" %}
from {{ cookiecutter.package_name }}.core.metrics import Metrics
{% endif %}
from {{ cookiecutter.package_name }}.core.problems import FieldError
from {{ cookiecutter.package_name }}.core.security import SECURITY_HEADERS
{% if cookiecutter.observability == "yes" %}
from {{ cookiecutter.package_name }}.core.server_spans import ServerSpans
{% endif %}

error_logger = structlog.get_logger("error")
request_id_logger = structlog.get_logger("request_id")

FORM = b"application/x-www-form-urlencoded"
NUL = "\x00"
NUL_MESSAGE = "Text may not contain the NUL character"
MAX_LENGTH_DIGITS = 19
# A form with thousands of NUL fields gets an answer the size of a few.
MAX_REPORTED_FIELDS = 10
REQUEST_ID_HEADER = b"x-request-id"
# The longest spelling of a UUID ("urn:uuid:" and 36 characters); longer IDs are replaced.
MAX_REQUEST_ID_CHARS = 45
# What CORS adds to a response: the exposed headers, as the frontend reads them.
CORS_EXPOSED_HEADERS = ("X-Request-ID", "Server-Timing")


class _Head:
    """What the edge needs from the request's headers, read in one pass."""

    __slots__ = ("chunked", "form", "length", "origin", "request_id", "size")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.size = 0
        self.length: int | None = None
        self.chunked = self.form = False
        self.request_id = self.origin = b""
        for name, value in headers:
            self.size += len(name) + len(value)
            if name == REQUEST_ID_HEADER:
                self.request_id = value
            elif name == b"origin":
                self.origin = value
            elif name == b"content-length" and value.isdigit():
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


def _request_id(header: bytes) -> str:
    """The request's ID: the one it came with when that is a UUID, a new one otherwise."""
    if header:
        if len(header) <= MAX_REQUEST_ID_CHARS:
            text = header.decode("latin-1")
            if is_valid_uuid4(text):
                return text
        request_id = uuid.uuid4().hex
        request_id_logger.warning("request_id_replaced", request_id=request_id)
        return request_id
    return uuid.uuid4().hex


class _Cors:
    """Starlette's CORS policy, with the headers of an allowed origin worked out once."""

    __slots__ = ("allowed", "policy", "simple_headers")

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.policy = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=CORS_EXPOSED_HEADERS,
        )
        self.allowed = {origin.encode("latin-1") for origin in origins}
        # With credentials allowed, the origin is always named, never "*".
        self.simple_headers = [
            (name.lower().encode(), value.encode())
            for name, value in self.policy.simple_headers.items()
            if name != "Access-Control-Allow-Origin"
        ]

    def preflight(self, scope: Scope, origin: bytes) -> bool:
        return bool(
            origin
            and scope["method"] == "OPTIONS"
            and any(name == b"access-control-request-method" for name, _ in scope["headers"])
        )

    def headers(self, origin: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        """Add the CORS headers of a response to a request from ``origin`` to ``headers``."""
        if origin:
            headers += self.simple_headers
            if b"*" in self.allowed or origin in self.allowed:
                headers.append((b"access-control-allow-origin", origin))
        vary = [value for name, value in headers if name == b"vary"]
        if vary:
            headers[:] = [(name, value) for name, value in headers if name != b"vary"]
        headers.append((b"vary", b", ".join([*vary, b"Origin"])))


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
        access_log: AccessLog,
        cors_origins: Sequence[str] = (),
{% if cookiecutter.observability == "yes" %}
        metrics: Metrics | None = None,
        spans: ServerSpans | None = None,
{% endif %}
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout = timeout
        self.body_timeout = body_timeout
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        self.access_log = access_log
        self.cors = _Cors(app, cors_origins) if cors_origins else None
{% if cookiecutter.observability == "yes" %}
        self.metrics = metrics
        self.spans = spans
{% endif %}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
{% if cookiecutter.observability == "yes" %}
        if self.metrics is not None:
            self.metrics.requests_in_progress.inc()
{% endif %}
        status = HTTPStatus.INTERNAL_SERVER_ERROR.value
        response_started = timed_out = False
        # Counted first: a request with thousands of headers is not read any further.
        too_many_headers = len(scope["headers"]) > self.max_headers
        head = _Head([] if too_many_headers else scope["headers"])
        request_id = _request_id(head.request_id)
        correlation_id.set(request_id)
{% if cookiecutter.observability == "yes" %}
        server_span = self.spans.start(scope) if self.spans is not None else None
{% endif %}
        origin = head.origin
        # None for a preflight request, whose answer has CORS headers of its own.
        cors = self.cors

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                elapsed_ms = (time.perf_counter() - start) * 1000
                headers = [
                    *message.get("headers", ()),
                    *SECURITY_HEADERS,
                    (b"server-timing", b"app;dur=%.1f" % elapsed_ms),
                    (REQUEST_ID_HEADER, request_id.encode("latin-1")),
                ]
                if cors is not None:
                    cors.headers(origin, headers)
                message["headers"] = headers
            await send(message)

        task = asyncio.current_task()

        def expire() -> None:
            nonlocal timed_out
            if task is not None:
                timed_out = True
                task.cancel()

        deadline: asyncio.TimerHandle | None = None

        async def send_from_app(message: Message) -> None:
            if deadline is not None and message["type"] == "http.response.start":
                deadline.cancel()
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
            if too_many_headers:
                await answer(self._too_many_headers())
                return
            if error := self._refuse(scope, head):
                await answer(error)
                return
            if cors is not None and cors.preflight(scope, origin):
                preflight = cors.policy.preflight_response(request_headers=Headers(scope=scope))
                cors = None
                await preflight(scope, receive, send_with_headers)
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
            # A timer that cancels the task, stopped when the response starts: cheaper
            # than ``asyncio.timeout`` on every request.
            deadline = asyncio.get_running_loop().call_later(self.timeout, expire)
            try:
                await self.app(scope, receive, send_from_app)
            finally:
                deadline.cancel()
        except asyncio.CancelledError:
            # Ours when the deadline cancelled the task before the response started, and
            # nothing else cancelled it too.
            if not timed_out or response_started or task is None or task.uncancel() > 0:
                raise
            await answer(RequestTimeoutError(f"No response within {self.timeout:g}s."))
{% if cookiecutter.observability == "yes" %}
        except Exception as exc:
{% else %}
        except Exception:
{% endif %}
            error_logger.exception("unhandled_error", method=scope["method"], path=scope["path"])
{% if cookiecutter.observability == "yes" %}
            sentry_sdk.capture_exception(exc)
            if server_span is not None:
                server_span.failed(exc)
{% endif %}
            if response_started:
                raise
            await answer(AppError("An unexpected error occurred."))
        finally:
            elapsed = time.perf_counter() - start
{% if cookiecutter.observability == "yes" %}
            if self.metrics is not None:
                self.metrics.requests_in_progress.dec()
                self.metrics.record_request(scope, status, elapsed)
{% endif %}
            self.access_log(scope["method"], scope["path"], status, elapsed)
{% if cookiecutter.observability == "yes" %}
            if server_span is not None:
                server_span.end(scope, status)
{% endif %}

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
