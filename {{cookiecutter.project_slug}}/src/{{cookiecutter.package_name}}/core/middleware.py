"""Pure ASGI middleware (never ``BaseHTTPMiddleware``, which costs several times more).

``RequestLoggingMiddleware`` sits inside the request ID middleware and does three
jobs in one layer, because each layer costs a function call per ASGI message:
it times the request (``Server-Timing``), adds the security headers, turns any
exception that escaped the application into a 500 Problem Details response
that reveals nothing but the request ID, and writes one access log line.
"""

import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.errors import problem_response
from {{ cookiecutter.package_name }}.core.security import SECURITY_HEADERS

access_logger = structlog.get_logger("access")
error_logger = structlog.get_logger("error")


class RequestLoggingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
        status = 500
        response_started = False

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

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            error_logger.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if response_started:
                raise
            response = problem_response(
                status=500,
                code="internal_error",
                detail="An unexpected error occurred.",
                instance=scope["path"],
            )
            await response(scope, receive, send_with_headers)
        finally:
            access_logger.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - start) * 1000, 2),
            )
