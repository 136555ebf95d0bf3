"""Tracing: off without a collector; with one, a span per request and trace IDs in the logs."""

import hashlib

import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from {{ cookiecutter.package_name }}.core.config import Environment, Settings
from {{ cookiecutter.package_name }}.core.telemetry import create_tracer_provider, sampler
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve
from tests.test_logging import json_lines


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def traced_app(settings: Settings, exporter: InMemorySpanExporter) -> FastAPI:
    """The app as a configured collector would trace it, with spans kept in memory."""
    provider = TracerProvider(sampler=sampler(settings))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return create_app(settings.model_copy(update={"log_json": True}), tracer_provider=provider)


def test_tracing_is_off_without_a_collector(settings: Settings) -> None:
    assert create_tracer_provider(settings) is None
    assert create_app(settings).state.tracer_provider is None


def test_a_collector_endpoint_turns_tracing_on(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"otel_exporter_otlp_endpoint": "http://127.0.0.1:4318"}
    )

    provider = create_tracer_provider(configured)

    assert provider is not None
    assert provider.resource.attributes["service.name"] == settings.otel_service_name
    provider.shutdown()


@pytest.mark.parametrize(
    ("environment", "ratio", "kept"),
    [
        (Environment.TEST, None, 1.0),
        (Environment.LOCAL, None, 1.0),
        (Environment.PRODUCTION, None, 0.1),
        (Environment.PRODUCTION, 0.5, 0.5),
    ],
)
def test_every_trace_is_kept_unless_in_production_or_told_otherwise(
    settings: Settings, environment: Environment, ratio: float | None, kept: float
) -> None:
    configured = settings.model_copy(
        update={"environment": environment, "otel_traces_sample_ratio": ratio}
    )

    should_sample = sampler(configured).should_sample
    trace_ids = [int.from_bytes(hashlib.sha256(n.to_bytes(2)).digest()[:16]) for n in range(2000)]
    decisions = [should_sample(None, trace_id, "GET /") for trace_id in trace_ids]

    kept_ones = [result for result in decisions if result.decision is Decision.RECORD_AND_SAMPLE]
    share = len(kept_ones) / len(decisions)
    assert share == pytest.approx(kept, abs=0.03)


async def test_a_request_outside_the_sampled_share_is_not_traced(
    settings: Settings, serve: Serve, exporter: InMemorySpanExporter
) -> None:
    never = settings.model_copy(update={"otel_traces_sample_ratio": 0.0})
    async with serve(traced_app(never, exporter)) as client:
        response = await client.get("/api/v1/meta")

    assert response.status_code == 200
    assert exporter.get_finished_spans() == ()


async def test_each_request_is_one_server_span_named_by_its_route(
    settings: Settings, serve: Serve, exporter: InMemorySpanExporter
) -> None:
    async with serve(traced_app(settings, exporter)) as client:
        await client.get("/api/v1/meta")

    spans = exporter.get_finished_spans()
    assert [span.name for span in spans if span.kind is SpanKind.SERVER] == ["GET /api/v1/meta"]
    # No span per ASGI message: they would cost more than the request.
    assert [span for span in spans if span.kind is SpanKind.INTERNAL] == []


CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.mark.parametrize(("flags", "kept"), [("01", True), ("00", False)])
async def test_a_callers_trace_is_continued_and_its_sampling_decision_followed(
    settings: Settings, serve: Serve, exporter: InMemorySpanExporter, flags: str, kept: bool
) -> None:
    traceparent = f"00-{CALLER_TRACE}-{CALLER_SPAN}-{flags}"
    async with serve(traced_app(settings, exporter)) as client:
        response = await client.get("/api/v1/meta", headers={"traceparent": traceparent})

    assert response.status_code == 200
    servers = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    if not kept:
        assert servers == []
        return
    [span] = servers
    assert span.context is not None
    assert span.parent is not None
    assert format_trace_id(span.context.trace_id) == CALLER_TRACE
    assert format_span_id(span.parent.span_id) == CALLER_SPAN
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/api/v1/meta"
    assert span.attributes["http.response.status_code"] == 200


async def test_a_request_that_fails_is_a_span_in_error_with_its_exception(
    settings: Settings, serve: Serve, exporter: InMemorySpanExporter
) -> None:
    app = traced_app(settings, exporter)

    @app.get("/boom")
    async def boom() -> None:
        msg = "the route failed"
        raise RuntimeError(msg)

    async with serve(app) as client:
        response = await client.get("/boom")

    assert response.status_code == 500
    [span] = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert span.name == "GET /boom"
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]


async def test_log_lines_carry_the_trace_and_span_ids(
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    serve: Serve,
    exporter: InMemorySpanExporter,
) -> None:
    async with serve(traced_app(settings, exporter)) as client:
        await client.get("/health/live")

    [span] = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    [access] = [line for line in json_lines(capsys.readouterr().out) if line["event"] == "request"]
    assert span.context is not None
    assert access["trace_id"] == format_trace_id(span.context.trace_id)
    assert access["span_id"] == format_span_id(span.context.span_id)


async def test_log_lines_have_no_trace_ids_while_tracing_is_off(
    capsys: pytest.CaptureFixture[str], settings: Settings, serve: Serve
) -> None:
    async with serve(create_app(settings.model_copy(update={"log_json": True}))) as client:
        await client.get("/health/live")

    [access] = [line for line in json_lines(capsys.readouterr().out) if line["event"] == "request"]
    assert "trace_id" not in access
{% if cookiecutter.database != "none" %}


async def test_sql_statements_are_spans_within_the_request(
    settings: Settings, serve: Serve, exporter: InMemorySpanExporter
) -> None:
    async with serve(traced_app(settings, exporter)) as client:
        await client.get("/health/ready")

    spans = exporter.get_finished_spans()
    [request] = [span for span in spans if span.kind is SpanKind.SERVER]
    queries = [span for span in spans if span.kind is SpanKind.CLIENT and "SELECT" in span.name]
    assert queries
    assert request.context is not None
    assert all(
        query.context is not None and query.context.trace_id == request.context.trace_id
        for query in queries
    )
{% endif %}
