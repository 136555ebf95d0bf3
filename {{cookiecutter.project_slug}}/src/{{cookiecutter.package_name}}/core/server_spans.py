"""A server span per request, started and ended by the edge middleware.

OpenTelemetry's FastAPI instrumentation does this in a middleware of its own, whose
fixed cost it pays whether the sampler keeps the trace or not: measured, 75 us of CPU
per ``/health/live``, a request that costs 143 us untraced (bench/RESULTS.md). Here a
request the sampler drops costs a non-recording span, and one it keeps the attributes
of OpenTelemetry's HTTP conventions that say what was asked and answered. The span is
named by the route template once the route is known (``GET /api/v1/notes/{note_id}``).
"""

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from starlette.types import Scope

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.core.metrics import route_template

# The request headers that carry a caller's trace (W3C Trace Context and Baggage).
PROPAGATED = frozenset({b"traceparent", b"tracestate", b"baggage"})


class ServerSpan:
    """One request's span, current from ``start`` until ``end``."""

    __slots__ = ("_token", "span")

    def __init__(self, span: Span) -> None:
        self.span = span
        self._token = context.attach(trace.set_span_in_context(span))

    def failed(self, error: Exception) -> None:
        self.span.record_exception(error)

    def end(self, scope: Scope, status: int) -> None:
        span = self.span
        route = route_template(scope)
        span.update_name(f"{scope['method']} {route}")
        if span.is_recording():
            span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
        span.end()
        context.detach(self._token)


class ServerSpans:
    def __init__(self, tracer_provider: TracerProvider) -> None:
        self._tracer = tracer_provider.get_tracer(__name__, __version__)

    def start(self, scope: Scope) -> ServerSpan:
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in PROPAGATED
        }
        parent = propagate.extract(carrier) if carrier else None
        span = self._tracer.start_span(scope["method"], context=parent, kind=SpanKind.SERVER)
        if span.is_recording():
            client = scope.get("client")
            span.set_attributes(
                {
                    "http.request.method": scope["method"],
                    "url.scheme": scope.get("scheme", "http"),
                    "url.path": scope["path"],
                    "network.protocol.version": scope.get("http_version", "1.1"),
                    "client.address": client[0] if client else "",
                }
            )
        return ServerSpan(span)
