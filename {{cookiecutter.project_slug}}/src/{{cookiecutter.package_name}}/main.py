{% set has_resources = cookiecutter.database != "none" or cookiecutter.llm != "none" or cookiecutter.redis == "yes" or cookiecutter.observability == "yes" %}
"""Application factory.

``create_app(settings)`` assembles the app; its lifespan opens the resources of
the enabled modules, hands them to requests through the lifespan state, and
closes them on shutdown. Serve it with ``uv run {{ cookiecutter.project_slug }}``.
"""

{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] or (cookiecutter.rag == "yes" and cookiecutter.redis == "no") %}
import asyncio
{% endif %}
from collections.abc import AsyncIterator
{% if has_resources %}
from contextlib import AsyncExitStack, asynccontextmanager
{% else %}
from contextlib import asynccontextmanager
{% endif %}
from typing import TypedDict

{% if cookiecutter.redis == "yes" %}
from arq.connections import ArqRedis
{% endif %}
from fastapi import FastAPI
{% if cookiecutter.observability == "yes" %}
from opentelemetry.sdk.trace import TracerProvider
{% endif %}
{% if cookiecutter.database != "none" %}
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
{% endif %}

from {{ cookiecutter.package_name }} import __description__, __version__
from {{ cookiecutter.package_name }}.api import health{{ ", metrics" if cookiecutter.observability == "yes" }}
from {{ cookiecutter.package_name }}.api.v1.router import api_router
from {{ cookiecutter.package_name }}.core.config import Settings
{% if cookiecutter.observability == "yes" %}
from {{ cookiecutter.package_name }}.core.error_tracking import (
    flush_error_tracking,
    start_error_tracking,
)
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import problem_responses, register_error_handlers
from {{ cookiecutter.package_name }}.core.health import HealthCheck, disk_space_check
from {{ cookiecutter.package_name }}.core.logging import AccessLog, configure_logging
{% if cookiecutter.observability == "yes" %}
from {{ cookiecutter.package_name }}.core.metrics import Metrics
{% endif %}
from {{ cookiecutter.package_name }}.core.middleware import EdgeMiddleware
{% if cookiecutter.oidc_signin == "yes" %}
from {{ cookiecutter.package_name }}.core.oidc import OidcClient, open_oidc_client
{% endif %}
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
from {{ cookiecutter.package_name }}.core.passwords import PasswordHasher
{% endif %}
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.core.redis import create_redis, redis_check, redis_timeouts
{% endif %}
{% if cookiecutter.observability == "yes" %}
from {{ cookiecutter.package_name }}.core.server_spans import ServerSpans
from {{ cookiecutter.package_name }}.core.telemetry import create_tracer_provider, tracing
{% endif %}
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
from {{ cookiecutter.package_name }}.core.tokens import TokenCodec
{% endif %}
{% if cookiecutter.rag == "yes" and cookiecutter.database == "postgresql" %}
from {{ cookiecutter.package_name }}.database.chunk_index_postgresql import require_vector_extension
{% endif %}
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.database.direct_reads import DirectReads
from {{ cookiecutter.package_name }}.database.engine import (
    create_engine,
    create_session_factory,
    database_check,
)
{% endif %}
{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.jobs.arq_queue import JobQueue
{% endif %}
{% if cookiecutter.llm != "none" %}
from {{ cookiecutter.package_name }}.services.llm.service import LLMService, open_llm_service
{% endif %}
{% if cookiecutter.llm != "none" and cookiecutter.observability == "yes" %}
from {{ cookiecutter.package_name }}.services.llm.telemetry import MetricsUsageRecorder
{% endif %}
{% if cookiecutter.llm != "none" and cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.services.llm.usage_store import DatabaseUsageRecorder
{% endif %}
{% if cookiecutter.rag == "yes" and cookiecutter.redis == "no" %}
from {{ cookiecutter.package_name }}.services.rag.chunking import Chunker
{% endif %}

OPENAPI_TAGS = [
    {"name": "health", "description": "Liveness and readiness probes."},
    {"name": "meta", "description": "What this service is."},
    {"name": "jobs", "description": "Work done in the background."},
{% if cookiecutter.database != "none" %}
    {"name": "users", "description": "User management: the example resource."},
    {"name": "notes", "description": "Notes owned by users, deleted with them."},
    {"name": "audit", "description": "Every change to an entity, with its request ID."},
{% endif %}
{% if cookiecutter.llm != "none" %}
    {"name": "llm", "description": "Completions from the configured LLM providers."},
{% endif %}
{% if cookiecutter.rag == "yes" %}
    {"name": "rag", "description": "Documents, hybrid search, and answers with sources."},
{% endif %}
{% if cookiecutter.auth != "none" %}
{% if cookiecutter.auth != "api_key" %}
{% if cookiecutter.oidc_signin == "yes" %}
    {
        "name": "auth",
        "description": "Log in and out: OAuth2 password flow or OpenID Connect, rotating tokens.",
    },
{% else %}
    {"name": "auth", "description": "Log in and out: OAuth2 password flow, rotating tokens."},
{% endif %}
{% endif %}
{% if cookiecutter.auth != "jwt" %}
    {"name": "api-keys", "description": "Keys for other systems: shown once, stored hashed."},
{% endif %}
{% endif %}
]


class LifespanState(TypedDict):
    """What the lifespan hands to every request (read through ``request.state``)."""

    health_checks: dict[str, HealthCheck]
{% if cookiecutter.database != "none" %}
    db_engine: AsyncEngine
    db_sessions: async_sessionmaker[AsyncSession]
    direct_reads: DirectReads
{% endif %}
    rate_limiter: RateLimiter
{% if cookiecutter.redis == "yes" %}
    redis: ArqRedis
    job_queue: JobQueue
{% endif %}
{% if cookiecutter.llm != "none" %}
    llm_service: LLMService
{% endif %}
{% if cookiecutter.rag == "yes" and cookiecutter.redis == "no" %}
    chunker: Chunker
{% endif %}
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
    token_codec: TokenCodec
    password_hasher: PasswordHasher
{% endif %}
{% if cookiecutter.oidc_signin == "yes" %}
    oidc_client: OidcClient
{% endif %}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[LifespanState]:
    settings: Settings = app.state.settings
    health_checks = {
        "disk": disk_space_check(settings.health_disk_path, settings.health_min_free_disk_mb),
    }
{% if has_resources %}
    async with AsyncExitStack() as resources:
{% if cookiecutter.database != "none" %}
        db_engine = create_engine(settings)
        resources.push_async_callback(db_engine.dispose)
        health_checks["database"] = database_check(db_engine)
        db_sessions = create_session_factory(db_engine)
{% if cookiecutter.rag == "yes" and cookiecutter.database == "postgresql" %}
        await require_vector_extension(db_engine)
{% endif %}
{% endif %}
{% if cookiecutter.redis == "yes" %}
        redis = create_redis(settings)
        resources.push_async_callback(redis.aclose)
        health_checks["redis"] = redis_check(redis)
{% endif %}
{% if cookiecutter.redis == "yes" %}
        # Counters kept in the app's Redis share its connections; another Redis gets its own.
        same_redis = settings.rate_limit_storage_uri == settings.redis_url
        rate_limiter = RateLimiter(
            settings.rate_limit_storage_uri,
            connection_pool=redis.connection_pool if same_redis else None,
            redis_options=redis_timeouts(settings),
        )
        resources.push_async_callback(rate_limiter.aclose)
{% else %}
        rate_limiter = RateLimiter(settings.rate_limit_storage_uri)
{% endif %}
{% if cookiecutter.observability == "yes" %}
        resources.callback(app.state.metrics.close)
        resources.push_async_callback(flush_error_tracking)
        if app.state.tracer_provider is not None:
            await resources.enter_async_context(tracing(app.state.tracer_provider{{ ", db_engine" if cookiecutter.database != "none" }}))
{% endif %}
{% if cookiecutter.llm != "none" %}
{% if cookiecutter.database != "none" %}
        # Closed after the LLM service: the rows of its last calls are written on the way out.
        usage_rows = await resources.enter_async_context(
            DatabaseUsageRecorder(db_sessions, flush_seconds=settings.llm_usage_flush_seconds)
        )
{% endif %}
{% if cookiecutter.database != "none" or cookiecutter.observability == "yes" %}
        llm_service = await resources.enter_async_context(
            open_llm_service(
                settings,
                rate_limiter,
                recorders=[
{% if cookiecutter.database != "none" %}
                    usage_rows,
{% endif %}
{% if cookiecutter.observability == "yes" %}
                    app.state.llm_metrics,
{% endif %}
                ],
{% if cookiecutter.observability == "yes" %}
                tracer_provider=app.state.tracer_provider,
                circuit_listeners=[app.state.llm_metrics.circuit_changed],
{% endif %}
            )
        )
{% else %}
        llm_service = await resources.enter_async_context(open_llm_service(settings, rate_limiter))
{% endif %}
        health_checks["llm"] = llm_service.check_readiness
{% endif %}
{% if cookiecutter.rag == "yes" and cookiecutter.redis == "no" %}
        # Loads its tokenizer's vocabulary: off the event loop.
        chunker = await asyncio.to_thread(
            Chunker, settings.rag_chunk_tokens, settings.rag_chunk_overlap
        )
{% endif %}
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
        # Both block (key files, one hash): off the event loop.
        token_codec = await asyncio.to_thread(TokenCodec, settings)
        password_hasher = await asyncio.to_thread(PasswordHasher.from_settings, settings)
{% endif %}
{% if cookiecutter.oidc_signin == "yes" %}
        oidc_client = await resources.enter_async_context(
            open_oidc_client(
                settings.oidc_providers,
                metadata_ttl=settings.oidc_metadata_ttl_seconds,
                http_timeout=settings.oidc_http_timeout,
                leeway=settings.jwt_leeway_seconds,
            )
        )
{% endif %}

        yield LifespanState(
            health_checks=health_checks,
{% if cookiecutter.database != "none" %}
            db_engine=db_engine,
            db_sessions=db_sessions,
            direct_reads=DirectReads(db_engine, attempts=settings.database_pool_size + 1),
{% endif %}
            rate_limiter=rate_limiter,
{% if cookiecutter.redis == "yes" %}
            redis=redis,
            job_queue=JobQueue(
                redis, settings.job_queue_name, max_payload_bytes=settings.job_max_payload_bytes
            ),
{% endif %}
{% if cookiecutter.llm != "none" %}
            llm_service=llm_service,
{% endif %}
{% if cookiecutter.rag == "yes" and cookiecutter.redis == "no" %}
            chunker=chunker,
{% endif %}
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
            token_codec=token_codec,
            password_hasher=password_hasher,
{% endif %}
{% if cookiecutter.oidc_signin == "yes" %}
            oidc_client=oidc_client,
{% endif %}
        )
{% else %}
    yield LifespanState(
        health_checks=health_checks, rate_limiter=RateLimiter(settings.rate_limit_storage_uri)
    )
{% endif %}


{% if cookiecutter.observability == "yes" %}
def create_app(
    settings: Settings | None = None, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """``tracer_provider``: trace with it rather than as the settings say (tests)."""
    settings = settings or Settings()
{% else %}
def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
{% endif %}
    configure_logging(settings)
{% if cookiecutter.observability == "yes" %}
    start_error_tracking(settings)
{% endif %}

    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        description=__description__,
        debug=settings.debug,
        lifespan=lifespan,
        openapi_tags=OPENAPI_TAGS,
        responses=problem_responses(408, 413, 422, 431, 500, 504),
    )
    app.state.settings = settings
    register_error_handlers(app)

    app.include_router(health.router)
    app.include_router(api_router, prefix="/api/v1", responses=problem_responses(400, 422))

{% if cookiecutter.observability == "yes" %}
    app.state.tracer_provider = tracer_provider or create_tracer_provider(settings)
    app.state.metrics = Metrics()
{% if cookiecutter.llm != "none" %}
    app.state.llm_metrics = MetricsUsageRecorder(
        app.state.metrics, daily_cost_budget=settings.llm_daily_cost_budget
    )
{% endif %}
    app.include_router(metrics.router)
{% endif %}
    # One pure-ASGI layer for the request ID, the limits, CORS, the headers, the access
    # log{{ " and the metrics" if cookiecutter.observability == "yes" }} (core/middleware.py).
    app.add_middleware(
        EdgeMiddleware,
        max_body_bytes=settings.max_request_body_bytes,
        timeout=settings.request_timeout,
        body_timeout=settings.request_body_timeout,
        max_header_bytes=settings.max_request_header_bytes,
        max_headers=settings.max_request_headers,
        access_log=AccessLog(settings),
        cors_origins=settings.cors_origins,
{% if cookiecutter.observability == "yes" %}
        metrics=app.state.metrics,
        spans=ServerSpans(app.state.tracer_provider) if app.state.tracer_provider else None,
{% endif %}
    )
    return app
