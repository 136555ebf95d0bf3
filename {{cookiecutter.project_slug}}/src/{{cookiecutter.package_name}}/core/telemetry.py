"""OpenTelemetry tracing, exported over OTLP/HTTP.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. Then the service records:

- a server span per request (``core/server_spans.py``);
{% if cookiecutter.database != "none" %}
- a child span per SQL statement;
{% endif %}
{% if cookiecutter.llm != "none" %}
- a client span per request to an LLM provider, with its model and tokens
  (``services/llm/telemetry.py``);
{% endif %}

and every log line written during a span carries its trace and span IDs. The
other standard variables apply as usual: ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_SDK_DISABLED``...; which traces are kept is
``OTEL_TRACES_SAMPLE_RATIO``'s (see ``sampler``).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
{% if cookiecutter.database != "none" %}
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
{% endif %}
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased
{% if cookiecutter.database != "none" %}
from sqlalchemy.ext.asyncio import AsyncEngine
{% endif %}

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.core.config import Environment, Settings

# A server span costs more CPU than the rest of a small request: production keeps one
# trace in ten unless OTEL_TRACES_SAMPLE_RATIO says otherwise.
PRODUCTION_SAMPLE_RATIO = 0.1


def create_tracer_provider(settings: Settings) -> TracerProvider | None:
    """None when no collector is configured: tracing then costs nothing at all."""
    if not settings.otel_exporter_otlp_endpoint:
        return None
    resource = Resource.create(
        {
            "service.name": settings.otel_service_name,
            "service.version": __version__,
            "deployment.environment.name": settings.environment.value,
        }
    )
    provider = TracerProvider(resource=resource, sampler=sampler(settings))
    endpoint = f"{settings.otel_exporter_otlp_endpoint.rstrip('/')}/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def sampler(settings: Settings) -> Sampler:
    """Keeps a share of the traces that start here, by trace ID (so every service that
    samples the same way keeps the same traces), and follows a caller's decision."""
    ratio = settings.otel_traces_sample_ratio
    if ratio is None:
        ratio = PRODUCTION_SAMPLE_RATIO if settings.environment is Environment.PRODUCTION else 1.0
    return ParentBased(TraceIdRatioBased(ratio))


@asynccontextmanager
{% if cookiecutter.database != "none" %}
async def tracing(tracer_provider: TracerProvider, engine: AsyncEngine) -> AsyncIterator[None]:
{% else %}
async def tracing(tracer_provider: TracerProvider) -> AsyncIterator[None]:
{% endif %}
{% if cookiecutter.database != "none" %}
    """Trace SQL while the app runs; send the last spans as it stops."""
{% else %}
    """Send the last spans as the app stops."""
{% endif %}
{% if cookiecutter.database != "none" %}
    sqlalchemy_instrumentor = SQLAlchemyInstrumentor()
    sqlalchemy_instrumentor.instrument(
        engine=engine.sync_engine,
        tracer_provider=tracer_provider,
        # Its declared SQLAlchemy range trails releases; the cursor events it uses are stable.
        skip_dep_check=True,
    )
{% endif %}
    try:
        yield
    finally:
{% if cookiecutter.database != "none" %}
        sqlalchemy_instrumentor.uninstrument()
{% endif %}
        await asyncio.to_thread(tracer_provider.shutdown)
