{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
{% set db = cookiecutter.database != "none" %}
{% set auth = cookiecutter.auth != "none" %}
{% set llm = cookiecutter.llm != "none" %}
{% set redis = cookiecutter.redis == "yes" %}
{% set oidc = cookiecutter.oidc_signin == "yes" %}
{% set rag = cookiecutter.rag == "yes" %}
"""Request-scoped dependencies: what route functions may ask FastAPI to inject.

Resources are opened by the lifespan in ``main.py`` and reach requests through
the lifespan state (``request.state``); nothing is a module-level global. This is
where the layers are put together: the one module of ``core/`` that may import
services{{ " and the database" if db }}.

It reads top down, each dependency before those that use it, starting from the
lifespan's resources and their ``...Dep`` aliases. Every dependency is ``async
def``, even one that awaits nothing: FastAPI runs a plain ``def`` dependency in a
worker thread, a thread hop on every request.
"""

{% if db %}
from collections.abc import AsyncIterator, Awaitable, Callable
{% else %}
from collections.abc import Awaitable, Callable
{% endif %}
{% if db and llm %}
from contextlib import asynccontextmanager
{% endif %}
{% if cookiecutter.python_version == "3.11" %}
from typing import Annotated, TypeVar
{% else %}
from typing import Annotated
{% endif %}
{% if rag and redis %}
from uuid import UUID
{% endif %}

{% if auth %}
import structlog
{% endif %}
{% if redis %}
from arq.connections import ArqRedis
{% endif %}
from fastapi import {{ "" if redis else "BackgroundTasks, " }}Depends, Request
{% if cookiecutter.auth == "jwt" %}
from fastapi.security import OAuth2PasswordBearer
{% elif cookiecutter.auth == "api_key" %}
from fastapi.security import APIKeyHeader
{% elif cookiecutter.auth == "jwt_and_api_key" %}
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
{% endif %}
from limits import parse
{% if db %}
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
{% endif %}

{% if auth %}
from {{ cookiecutter.package_name }}.core.authorization import (
{% if api_keys %}
    API_KEY_HEADER,
{% endif %}
{% if jwt %}
    SCOPE_DESCRIPTIONS,
{% endif %}
    Principal,
    Scope,
    unauthorized,
)
{% endif %}
from {{ cookiecutter.package_name }}.core.config import Settings
{% if auth %}
from {{ cookiecutter.package_name }}.core.errors import (
    ForbiddenError,
    RateLimitedError,
    UnauthorizedError,
)
{% endif %}
from {{ cookiecutter.package_name }}.core.health import HealthCheck
{% if oidc %}
from {{ cookiecutter.package_name }}.core.oidc import OidcClient
{% endif %}
{% if jwt %}
from {{ cookiecutter.package_name }}.core.passwords import PasswordHasher
{% endif %}
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
{% if jwt %}
from {{ cookiecutter.package_name }}.core.tokens import TokenCodec
{% endif %}
{% if rag and cookiecutter.database == "sqlite" %}
from {{ cookiecutter.package_name }}.database.chunk_index_sqlite import SqliteChunkIndex
{% elif rag %}
from {{ cookiecutter.package_name }}.database.chunk_index_postgresql import PostgresChunkIndex
{% endif %}
{% if db %}
from {{ cookiecutter.package_name }}.database.direct_reads import DirectReads
from {{ cookiecutter.package_name }}.database.session import unit_of_work
{% endif %}
{% if redis %}
from {{ cookiecutter.package_name }}.jobs.arq_queue import JobQueue
{% if rag %}
from {{ cookiecutter.package_name }}.jobs.ingestion import index_document
{% endif %}
{% else %}
from {{ cookiecutter.package_name }}.jobs.background_queue import JobQueue
{% endif %}
{% if api_keys %}
from {{ cookiecutter.package_name }}.services.api_key_service import (
    ApiKeyService,
    principal_from_api_key,
)
{% endif %}
{% if db %}
from {{ cookiecutter.package_name }}.services.audit_trail import AuditTrail
{% endif %}
{% if jwt %}
from {{ cookiecutter.package_name }}.services.auth_service import (
    AuthService,
    principal_from_token,
)
{% endif %}
{% if llm and db %}
from {{ cookiecutter.package_name }}.services.llm.conversations import ConversationService
{% endif %}
{% if llm %}
from {{ cookiecutter.package_name }}.services.llm.service import LLMService
from {{ cookiecutter.package_name }}.services.llm.tools import Toolbox, ToolContext
{% endif %}
{% if llm and db %}
from {{ cookiecutter.package_name }}.services.llm.usage_store import UsageReports
{% endif %}
{% if db %}
from {{ cookiecutter.package_name }}.services.note_service import NoteReader, NoteService
{% endif %}
{% if oidc %}
from {{ cookiecutter.package_name }}.services.oidc_service import OidcService
{% endif %}
{% if rag and redis %}
from {{ cookiecutter.package_name }}.services.rag.service import RagService
{% elif rag %}
from {{ cookiecutter.package_name }}.services.rag.chunking import Chunker
from {{ cookiecutter.package_name }}.services.rag.service import RagService
{% endif %}
{% if db %}
from {{ cookiecutter.package_name }}.services.user_service import UserService
{% endif %}
{% if cookiecutter.python_version == "3.11" %}

T = TypeVar("T")
{% endif %}
{% if auth %}

security_log = structlog.get_logger("security")
{% endif %}


{% if cookiecutter.python_version == "3.11" %}
def from_lifespan(name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
{% else %}
def from_lifespan[T](name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
{% endif %}
    """A dependency that hands a request the ``kind`` that the lifespan opened as ``name``."""

    async def read(request: Request) -> T:
        resource: T = getattr(request.state, name)
        return resource

    return read


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


get_health_checks = from_lifespan("health_checks", dict[str, HealthCheck])
get_rate_limiter = from_lifespan("rate_limiter", RateLimiter)
{% if db %}
get_db_sessions = from_lifespan("db_sessions", async_sessionmaker[AsyncSession])
get_direct_reads = from_lifespan("direct_reads", DirectReads)
{% endif %}
{% if redis %}
get_redis = from_lifespan("redis", ArqRedis)
get_shared_job_queue = from_lifespan("job_queue", JobQueue)
{% endif %}
{% if jwt %}
get_token_codec = from_lifespan("token_codec", TokenCodec)
get_password_hasher = from_lifespan("password_hasher", PasswordHasher)
{% endif %}
{% if oidc %}
get_oidc_client = from_lifespan("oidc_client", OidcClient)
{% endif %}
{% if llm %}
get_llm_service = from_lifespan("llm_service", LLMService)
{% endif %}
{% if rag and not redis %}
get_chunker = from_lifespan("chunker", Chunker)
{% endif %}

SettingsDep = Annotated[Settings, Depends(get_settings)]
HealthChecksDep = Annotated[dict[str, HealthCheck], Depends(get_health_checks)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
{% if db %}
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_db_sessions)]
DirectReadsDep = Annotated[DirectReads, Depends(get_direct_reads)]
{% endif %}
{% if redis %}
RedisDep = Annotated[ArqRedis, Depends(get_redis)]
{% endif %}
{% if jwt %}
TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
PasswordHasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]
{% endif %}
{% if oidc %}
OidcClientDep = Annotated[OidcClient, Depends(get_oidc_client)]
{% endif %}
{% if llm %}
LLMServiceDep = Annotated[LLMService, Depends(get_llm_service)]
{% endif %}
{% if rag and not redis %}
ChunkerDep = Annotated[Chunker, Depends(get_chunker)]
{% endif %}
{% if db %}


async def get_session(sessions: SessionsDep) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: commit on success, roll back on any error."""
    async with unit_of_work(sessions) as session:
        yield session


# scope="function" commits when the route returns, before the response is sent:
# a failed commit reaches the client as a 409 or 503, never as a false success.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
{% endif %}
{% if auth %}
{% if jwt %}

# Swagger UI's "Authorize" logs in with this (the OAuth2 password flow).
bearer_token = OAuth2PasswordBearer(
    tokenUrl="api/v1/auth/token", scopes=dict(SCOPE_DESCRIPTIONS), auto_error=False
)
{% endif %}
{% if api_keys %}
api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)
{% endif %}


async def _count_failure(request: Request, settings: Settings, limiter: RateLimiter) -> None:
    """Count a failed authentication against the client's IP; 429 once it failed too often."""
    client_ip = request.client.host if request.client else "unknown"
    try:
        await limiter.hit(parse(settings.auth_failure_rate_limit), "auth_failure", client_ip)
    except RateLimitedError:
        security_log.warning("auth_rate_limited", limit="auth_failure", client_ip=client_ip)
        raise


async def get_current_principal(
    request: Request,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    sessions: SessionsDep,
{% if jwt %}
    tokens: TokenCodecDep,
    token: Annotated[str | None, Depends(bearer_token)],
{% endif %}
{% if api_keys %}
    api_key: Annotated[str | None, Depends(api_key_header)],
{% endif %}
) -> Principal:
    """The authenticated caller: 401 unless a credential proves who it is.

    The credential is checked in a transaction of its own, ended before the route
    runs. Failures count against ``AUTH_FAILURE_RATE_LIMIT`` per client IP; past it, 429.
    """
    try:
{% if cookiecutter.auth == "jwt" %}
        if token is None:
            raise unauthorized("Authentication required: log in for a bearer token.")
        return await principal_from_token(sessions, tokens, token)
{% elif cookiecutter.auth == "api_key" %}
        if api_key is None:
            raise unauthorized(f"Authentication required: send an API key in {API_KEY_HEADER}.")
        return await principal_from_api_key(sessions, api_key)
{% else %}
        if token is not None and api_key is not None:
            raise unauthorized("Send a bearer token or an API key, not both.")
        if token is not None:
            return await principal_from_token(sessions, tokens, token)
        if api_key is not None:
            return await principal_from_api_key(sessions, api_key)
        raise unauthorized("Authentication required: a bearer token or an API key.")
{% endif %}
    except UnauthorizedError:
        await _count_failure(request, settings, limiter)
        raise


PrincipalDep = Annotated[Principal, Depends(get_current_principal)]


def require_scopes(*scopes: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that passes the caller on if they have every one of ``scopes``, else 403.

    Use it as ``Annotated[Principal, Depends(require_scopes(Scope.NOTES_READ))]``, or in a
    route's ``dependencies``.
    """
    required = frozenset(scopes)

    async def check(principal: PrincipalDep) -> Principal:
        if missing := sorted(scope.value for scope in required - principal.scopes):
            security_log.warning(
                "permission_denied", user_id=str(principal.user_id), missing=missing
            )
            raise ForbiddenError(f"Missing scope: {' '.join(missing)}.")
        return principal

    return check


async def get_caller_id(principal: PrincipalDep) -> str:
    """Who is calling, for per-caller limits and usage: the authenticated user."""
    return f"user:{principal.user_id}"
{% else %}


async def get_caller_id(request: Request) -> str:
    """Who is calling, for per-caller limits and usage: the client address (behind
    a proxy, run uvicorn with ``--forwarded-allow-ips`` so that this is the
    client's and not the proxy's).
    """
    return f"ip:{request.client.host if request.client else 'unknown'}"
{% endif %}


CallerIdDep = Annotated[str, Depends(get_caller_id)]


async def limit_jobs(caller: CallerIdDep, settings: SettingsDep, limiter: RateLimiterDep) -> None:
    """429 once the caller queued ``JOB_RATE_LIMIT`` jobs."""
{% if redis %}
    # Per queue too: services sharing a Redis (and its counters) have queues of their own.
    await limiter.hit(parse(settings.job_rate_limit), "jobs", settings.job_queue_name, caller)
{% else %}
    await limiter.hit(parse(settings.job_rate_limit), "jobs", caller)
{% endif %}
{% if llm and db %}


{% if auth %}
async def get_usage_scope(principal: PrincipalDep, caller: CallerIdDep) -> str | None:
    """Whose LLM usage the request may read: their own, or everyone's (None) for an admin."""
    return None if principal.is_admin else caller
{% else %}
async def get_usage_scope(caller: CallerIdDep) -> str | None:
    """Whose LLM usage the request may read: the caller's own.

    None stands for every caller's: once authentication tells administrators
    apart, this is the one place that lets them see everyone's.
    """
    return caller
{% endif %}


UsageScopeDep = Annotated[str | None, Depends(get_usage_scope)]
{% endif %}
{% if redis and auth %}


async def get_job_queue(request: Request, principal: PrincipalDep) -> JobQueue:
    """The job queue as the caller sees it: their own jobs (an admin: everyone's)."""
    queue = await get_shared_job_queue(request)
    return queue.of(principal.user_id.hex, sees_all=principal.is_admin)
{% elif not redis %}


async def get_job_queue(background_tasks: BackgroundTasks, settings: SettingsDep) -> JobQueue:
    return JobQueue(background_tasks, max_payload_bytes=settings.job_max_payload_bytes)
{% endif %}
{% if db %}


{% if auth %}
async def get_audit_trail(session: SessionDep, principal: PrincipalDep) -> AuditTrail:
    return AuditTrail(session, actor=principal.actor)
{% else %}
async def get_audit_trail(session: SessionDep) -> AuditTrail:
    return AuditTrail(session)
{% endif %}


AuditTrailDep = Annotated[AuditTrail, Depends(get_audit_trail)]


{% if jwt %}
async def get_user_service(
    session: SessionDep, audit: AuditTrailDep, passwords: PasswordHasherDep
) -> UserService:
    return UserService(session, audit, passwords)
{% else %}
async def get_user_service(session: SessionDep, audit: AuditTrailDep) -> UserService:
    return UserService(session, audit)
{% endif %}


{% if auth %}
async def get_note_service(
    session: SessionDep, audit: AuditTrailDep, principal: PrincipalDep
) -> NoteService:
    return NoteService(session, audit, principal)


async def get_note_reader(reads: DirectReadsDep, principal: PrincipalDep) -> NoteReader:
    return NoteReader(reads, principal)
{% else %}
async def get_note_service(session: SessionDep, audit: AuditTrailDep) -> NoteService:
    return NoteService(session, audit)


async def get_note_reader(reads: DirectReadsDep) -> NoteReader:
    return NoteReader(reads)
{% endif %}
{% if jwt %}


async def get_auth_service(
    sessions: SessionsDep,
    tokens: TokenCodecDep,
    passwords: PasswordHasherDep,
    limiter: RateLimiterDep,
    settings: SettingsDep,
) -> AuthService:
    return AuthService(sessions, tokens, passwords, limiter, settings)
{% if oidc %}


async def get_oidc_service(
    sessions: SessionsDep,
    client: OidcClientDep,
    auth: Annotated[AuthService, Depends(get_auth_service)],
    limiter: RateLimiterDep,
    settings: SettingsDep,
) -> OidcService:
    return OidcService(sessions, client, auth, limiter, settings)
{% endif %}
{% endif %}
{% if api_keys %}


async def get_api_key_service(
    session: SessionDep, audit: AuditTrailDep, principal: PrincipalDep
) -> ApiKeyService:
    return ApiKeyService(session, audit, principal)
{% endif %}
{% if llm %}


async def get_usage_reports(session: SessionDep) -> UsageReports:
    return UsageReports(session)


{% if auth %}
async def get_conversation_service(
    sessions: SessionsDep, llm: LLMServiceDep, caller: CallerIdDep, principal: PrincipalDep
) -> ConversationService:
    return ConversationService(sessions, llm, caller, principal)
{% else %}
async def get_conversation_service(
    sessions: SessionsDep, llm: LLMServiceDep, caller: CallerIdDep
) -> ConversationService:
    return ConversationService(sessions, llm, caller)
{% endif %}
{% endif %}
{% endif %}


{% if redis and not auth %}
JobQueueDep = Annotated[JobQueue, Depends(get_shared_job_queue)]
{% else %}
JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]
{% endif %}
{% if db %}
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
NoteServiceDep = Annotated[NoteService, Depends(get_note_service)]
NoteReaderDep = Annotated[NoteReader, Depends(get_note_reader)]
{% endif %}
{% if jwt %}
AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
{% if oidc %}
OidcServiceDep = Annotated[OidcService, Depends(get_oidc_service)]
{% endif %}
{% endif %}
{% if api_keys %}
ApiKeyServiceDep = Annotated[ApiKeyService, Depends(get_api_key_service)]
{% endif %}
{% if llm and db %}
UsageReportsDep = Annotated[UsageReports, Depends(get_usage_reports)]
ConversationServiceDep = Annotated[ConversationService, Depends(get_conversation_service)]
{% endif %}
{% if rag %}
{% set index = "SqliteChunkIndex" if cookiecutter.database == "sqlite" else "PostgresChunkIndex" %}
{% set rag_arguments = ["sessions", "llm", "index"] + ([] if redis else ["chunker"]) + ["settings", "caller"] %}
{% set rag_arguments = rag_arguments + (["principal"] if auth else []) + (["schedule"] if redis else []) %}


async def get_rag_service(
    sessions: SessionsDep,
    llm: LLMServiceDep,
{% if not redis %}
    chunker: ChunkerDep,
{% endif %}
    settings: SettingsDep,
    caller: CallerIdDep,
{% if auth %}
    principal: PrincipalDep,
{% endif %}
{% if redis %}
    request: Request,
{% endif %}
) -> RagService:
{% if auth and redis %}
    """Retrieval for the caller: their own documents only, ingested by the job queue."""
{% elif auth %}
    """Retrieval for the caller: their own documents only."""
{% elif redis %}
    """Retrieval, its documents ingested by the job queue."""
{% endif %}
    index = {{ index }}()
{% if redis %}
    queue = await get_shared_job_queue(request)

    async def schedule(document_id: UUID) -> None:
        await queue.enqueue(index_document, str(document_id), caller)

{% endif %}
    return RagService({{ rag_arguments | join(", ") }})


RagServiceDep = Annotated[RagService, Depends(get_rag_service)]
{% endif %}
{% if llm %}


{% if auth and db %}
{% if rag %}
async def get_toolbox(
    llm: LLMServiceDep,
    caller: CallerIdDep,
    principal: PrincipalDep,
    sessions: SessionsDep,
    rag: RagServiceDep,
) -> Toolbox:
{% else %}
async def get_toolbox(
    llm: LLMServiceDep, caller: CallerIdDep, principal: PrincipalDep, sessions: SessionsDep
) -> Toolbox:
{% endif %}
    """The LLM's tools, run for the caller: what a tool reaches is what they may reach.

    A tool opens its own unit of work when it runs: no connection is held while the
    model answers.
    """

    @asynccontextmanager
    async def notes() -> AsyncIterator[NoteService]:
        async with unit_of_work(sessions) as session:
            yield NoteService(session, AuditTrail(session, actor=principal.actor), principal)

{% if rag %}
    context = ToolContext(caller=caller, scopes=principal.scopes, notes=notes, documents=rag.search)
    return llm.toolbox(context)
{% else %}
    return llm.toolbox(ToolContext(caller=caller, scopes=principal.scopes, notes=notes))
{% endif %}
{% elif auth %}
async def get_toolbox(llm: LLMServiceDep, caller: CallerIdDep, principal: PrincipalDep) -> Toolbox:
    """The LLM's tools, run for the caller: what a tool reaches is what they may reach."""
    return llm.toolbox(ToolContext(caller=caller, scopes=principal.scopes))
{% elif db %}
{% if rag %}
async def get_toolbox(
    llm: LLMServiceDep, caller: CallerIdDep, sessions: SessionsDep, rag: RagServiceDep
) -> Toolbox:
{% else %}
async def get_toolbox(llm: LLMServiceDep, caller: CallerIdDep, sessions: SessionsDep) -> Toolbox:
{% endif %}
    """The LLM's tools, run for the caller. A tool opens its own unit of work when it
    runs: no connection is held while the model answers.
    """

    @asynccontextmanager
    async def notes() -> AsyncIterator[NoteService]:
        async with unit_of_work(sessions) as session:
            yield NoteService(session, AuditTrail(session))

{% if rag %}
    return llm.toolbox(ToolContext(caller=caller, notes=notes, documents=rag.search))
{% else %}
    return llm.toolbox(ToolContext(caller=caller, notes=notes))
{% endif %}
{% else %}
async def get_toolbox(llm: LLMServiceDep, caller: CallerIdDep) -> Toolbox:
    """The LLM's tools, run for the caller."""
    return llm.toolbox(ToolContext(caller=caller))
{% endif %}


ToolboxDep = Annotated[Toolbox, Depends(get_toolbox)]
{% endif %}
