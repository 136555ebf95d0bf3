"""Prometheus metrics of the LLM calls, and a client span per request to a provider."""

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve
from tests.llm.conftest import COMPLETE, STREAM
from tests.llm.stub import Reply, StubProvider
from tests.test_metrics import sample
from tests.test_tracing import traced_app

LLM_FAMILIES = {
    "llm_calls": "counter",
    "llm_call_duration_seconds": "histogram",
    "llm_errors": "counter",
    "llm_tokens": "counter",
    "llm_cost_usd": "counter",
}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def llm_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name.startswith("chat ")]


async def test_calls_are_counted_by_provider_model_and_outcome(
    settings: Settings, serve: Serve, primary: StubProvider, providers: list[ProviderName]
) -> None:
    primary.will(
        Reply(input_tokens=1000, cache_read_tokens=400, output_tokens=200), Reply(status=400)
    )
    deterministic = {"prompt": "What is 2 + 2?", "temperature": 0}

    # An app of its own: the counts start at zero.
    async with serve(create_app(settings)) as client:
        answered = (await client.post(COMPLETE, json=deterministic)).json()
        await client.post(COMPLETE, json=deterministic)
        await client.post(COMPLETE, json={"prompt": "Something the provider refuses"})
        text = (await client.get("/metrics")).text

    families = {family.name: family.type for family in text_string_to_metric_families(text)}
    assert families.items() >= LLM_FAMILIES.items()
    labels = {"provider": providers[0], "model": answered["model"]}
    for outcome in ("ok", "cached", "error"):
        assert sample(text, "llm_calls_total", **labels, outcome=outcome) == 1
        assert sample(text, "llm_call_duration_seconds_count", **labels, outcome=outcome) == 1
    assert sample(text, "llm_errors_total", **labels, code="bad_request") == 1
    assert sample(text, "llm_tokens_total", **labels, kind="input") == 1000
    assert sample(text, "llm_tokens_total", **labels, kind="cache_read") == 400
    assert sample(text, "llm_tokens_total", **labels, kind="output") == 200
    assert sample(text, "llm_cost_usd_total", **labels) == pytest.approx(answered["cost"])


async def test_an_open_circuit_and_the_daily_budget_are_metrics(
    settings: Settings, serve: Serve, primary: StubProvider, providers: list[ProviderName]
) -> None:
    fragile = settings.model_copy(
        update={"llm_breaker_threshold": 1, "llm_max_attempts": 1, "llm_daily_cost_budget": 5}
    )
    primary.will(Reply(status=500))

    async with serve(create_app(fragile)) as client:
        before = (await client.get("/metrics")).text
        await client.post(COMPLETE, json={"prompt": "Anyone there?"})
        after = (await client.get("/metrics")).text

    assert "llm_circuit_open{" not in before
    assert sample(after, "llm_circuit_open", provider=providers[0]) == 1
    assert sample(after, "llm_daily_cost_budget_usd") == 5


async def test_each_request_to_a_provider_is_a_client_span_of_the_request(
    settings: Settings,
    serve: Serve,
    primary: StubProvider,
    providers: list[ProviderName],
    exporter: InMemorySpanExporter,
) -> None:
    primary.will(Reply(status=500), Reply(input_tokens=30, cache_read_tokens=10, output_tokens=4))

    async with serve(traced_app(settings, exporter)) as client:
        body = (await client.post(COMPLETE, json={"prompt": "Hello?", "max_tokens": 50})).json()

    [request] = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    failed, answered = llm_spans(exporter)
    for span in (failed, answered):
        assert span.name == f"chat {body['model']}"
        assert span.kind is SpanKind.CLIENT
        assert span.parent is not None
        assert request.context is not None
        assert span.parent.span_id == request.context.span_id
        assert span.attributes is not None
        assert span.attributes["gen_ai.provider.name"] == providers[0]
        assert span.attributes["gen_ai.request.model"] == body["model"]
        assert span.attributes["gen_ai.request.max_tokens"] == 50
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "TransientProviderError"
    assert answered.status.status_code is StatusCode.UNSET
    assert answered.attributes is not None
    assert answered.attributes["gen_ai.usage.input_tokens"] == 30
    assert answered.attributes["gen_ai.usage.cache_read.input_tokens"] == 10
    assert answered.attributes["gen_ai.usage.output_tokens"] == 4
    assert answered.attributes["gen_ai.system"] == providers[0]
    assert answered.attributes["gen_ai.response.model"] == body["model"]
    assert answered.attributes["gen_ai.response.finish_reasons"] == ("stop",)


async def test_a_streamed_answer_is_one_span_until_its_end(
    settings: Settings, serve: Serve, primary: StubProvider, exporter: InMemorySpanExporter
) -> None:
    primary.will(Reply(input_tokens=30, output_tokens=4))

    async with serve(traced_app(settings, exporter)) as client:
        response = await client.post(STREAM, json={"prompt": "Hello?"})

    assert "event: usage" in response.text
    [span] = llm_spans(exporter)
    assert span.attributes is not None
    assert span.attributes["gen_ai.usage.input_tokens"] == 30
    assert span.attributes["gen_ai.usage.output_tokens"] == 4
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
