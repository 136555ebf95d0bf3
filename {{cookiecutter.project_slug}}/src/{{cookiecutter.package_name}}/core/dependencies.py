"""Request-scoped dependencies: what route functions may ask FastAPI to inject.

Resources are opened by the lifespan in ``main.py`` and reach requests through
the lifespan state (``request.state``); nothing is a module-level global.

Every dependency is ``async def``, even one that awaits nothing: FastAPI runs a
plain ``def`` dependency in a worker thread, a thread hop on every request.
"""

{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
{% if cookiecutter.auth != "none" %}
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
{% elif cookiecutter.database != "none" %}
from collections.abc import AsyncIterator, Mapping
{% else %}
from collections.abc import Mapping
{% endif %}
from typing import Annotated

{% if cookiecutter.auth != "none" %}
import structlog
{% endif %}
{% if cookiecutter.redis == "yes" %}
from arq.connections import ArqRedis
{% endif %}
from fastapi import {{ "" if cookiecutter.redis == "yes" else "BackgroundTasks, " }}Depends, Request
{% if cookiecutter.auth != "none" %}
{% if cookiecutter.auth == "jwt" %}
from fastapi.security import OAuth2PasswordBearer
{% elif cookiecutter.auth == "api_key" %}
from fastapi.security import APIKeyHeader
{% else %}
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
{% endif %}
{% endif %}
from limits import parse
{% if cookiecutter.database != "none" %}
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
{% endif %}

{% if cookiecutter.auth != "none" %}
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
{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.core.errors import (
    ForbiddenError,
    RateLimitedError,
    UnauthorizedError,
)
{% endif %}
{% if jwt %}
from {{ cookiecutter.package_name }}.core.passwords import PasswordHasher
{% endif %}
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
{% if jwt %}
from {{ cookiecutter.package_name }}.core.tokens import TokenCodec
{% endif %}
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.database.session import unit_of_work
{% endif %}
from {{ cookiecutter.package_name }}.jobs.queue import JobQueue
{% if api_keys %}
from {{ cookiecutter.package_name }}.services.api_key_service import (
    ApiKeyService,
    principal_from_api_key,
)
{% endif %}
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.services.audit_service import AuditTrail
{% endif %}
{% if jwt %}
from {{ cookiecutter.package_name }}.services.auth_service import (
    AuthService,
    principal_from_token,
)
{% endif %}
from {{ cookiecutter.package_name }}.services.health_service import HealthCheck
{% if cookiecutter.llm != "none" %}
from {{ cookiecutter.package_name }}.services.llm_service import LLMService
{% endif %}
{% if cookiecutter.llm != "none" and cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.services.llm_usage_store import LLMUsageService
{% endif %}
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.services.note_service import NoteService
from {{ cookiecutter.package_name }}.services.user_service import UserService
{% endif %}


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_health_checks(request: Request) -> Mapping[str, HealthCheck]:
    checks: Mapping[str, HealthCheck] = request.state.health_checks
    return checks
{% if cookiecutter.redis == "yes" %}


async def get_redis(request: Request) -> ArqRedis:
    redis: ArqRedis = request.state.redis
    return redis
{% endif %}


SettingsDep = Annotated[Settings, Depends(get_settings)]
HealthChecksDep = Annotated[Mapping[str, HealthCheck], Depends(get_health_checks)]
{% if cookiecutter.redis == "yes" %}
RedisDep = Annotated[ArqRedis, Depends(get_redis)]
{% endif %}
{% if cookiecutter.database != "none" %}


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: commit on success, roll back on any error."""
    sessions: async_sessionmaker[AsyncSession] = request.state.db_sessions
    async with unit_of_work(sessions) as session:
        yield session


# scope="function" commits when the route returns, before the response is sent:
# a failed commit reaches the client as a 409 or 503, never as a false success.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
{% if cookiecutter.auth != "none" %}

security_log = structlog.get_logger("security")
{% if jwt %}


async def get_token_codec(request: Request) -> TokenCodec:
    codec: TokenCodec = request.state.token_codec
    return codec


async def get_password_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.state.password_hasher
    return hasher


TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
PasswordHasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]

# Swagger UI's "Authorize" logs in with this (the OAuth2 password flow).
bearer_token = OAuth2PasswordBearer(
    tokenUrl="api/v1/auth/token", scopes=dict(SCOPE_DESCRIPTIONS), auto_error=False
)
{% endif %}
{% if api_keys %}
api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)
{% endif %}


async def get_current_principal(
    request: Request,
    session: SessionDep,
{% if jwt %}
    tokens: TokenCodecDep,
    token: Annotated[str | None, Depends(bearer_token)],
{% endif %}
{% if api_keys %}
    api_key: Annotated[str | None, Depends(api_key_header)],
{% endif %}
) -> Principal:
    """The authenticated caller: 401 unless a credential proves who it is.

    Failures count against ``AUTH_FAILURE_RATE_LIMIT`` per client IP; past it, 429.
    """
    try:
{% if cookiecutter.auth == "jwt" %}
        if token is None:
            raise unauthorized("Authentication required: log in for a bearer token.")
        return await principal_from_token(session, tokens, token)
{% elif cookiecutter.auth == "api_key" %}
        if api_key is None:
            raise unauthorized(f"Authentication required: send an API key in {API_KEY_HEADER}.")
        return await principal_from_api_key(session, api_key)
{% else %}
        if token is not None and api_key is not None:
            raise unauthorized("Send a bearer token or an API key, not both.")
        if token is not None:
            return await principal_from_token(session, tokens, token)
        if api_key is not None:
            return await principal_from_api_key(session, api_key)
        raise unauthorized("Authentication required: a bearer token or an API key.")
{% endif %}
    except UnauthorizedError:
        await _count_failure(request)
        raise


async def _count_failure(request: Request) -> None:
    """Count a failed authentication against the client's IP; 429 once it failed too often."""
    client_ip = request.client.host if request.client else "unknown"
    settings = await get_settings(request)
    limiter = await get_rate_limiter(request)
    try:
        await limiter.hit(parse(settings.auth_failure_rate_limit), "auth_failure", client_ip)
    except RateLimitedError:
        security_log.warning("auth_rate_limited", limit="auth_failure", client_ip=client_ip)
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
{% endif %}


{% if cookiecutter.auth != "none" %}
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


{% if cookiecutter.auth != "none" %}
async def get_note_service(
    session: SessionDep, audit: AuditTrailDep, principal: PrincipalDep
) -> NoteService:
    return NoteService(session, audit, principal)
{% else %}
async def get_note_service(session: SessionDep, audit: AuditTrailDep) -> NoteService:
    return NoteService(session, audit)
{% endif %}


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
NoteServiceDep = Annotated[NoteService, Depends(get_note_service)]
{% endif %}


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
{% if cookiecutter.llm != "none" %}
{% if cookiecutter.auth != "none" %}


async def get_caller_id(principal: PrincipalDep, session: SessionDep) -> str:
    """Who is calling, for per-caller limits and usage: the authenticated user."""
    # A completion can take minutes: end the authentication's transaction now
    # rather than hold a database connection for as long.
    await session.commit()
    return f"user:{principal.user_id}"
{% else %}


async def get_caller_id(request: Request) -> str:
    """Who is calling, for per-caller limits and usage: the client address (behind
    a proxy, run uvicorn with ``--forwarded-allow-ips`` so that this is the
    client's and not the proxy's).
    """
    return f"ip:{request.client.host if request.client else 'unknown'}"
{% endif %}


async def get_llm_service(request: Request) -> LLMService:
    service: LLMService = request.state.llm_service
    return service


CallerIdDep = Annotated[str, Depends(get_caller_id)]
LLMServiceDep = Annotated[LLMService, Depends(get_llm_service)]
{% if cookiecutter.database != "none" %}


{% if cookiecutter.auth != "none" %}
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


async def get_llm_usage_service(session: SessionDep) -> LLMUsageService:
    return LLMUsageService(session)


UsageScopeDep = Annotated[str | None, Depends(get_usage_scope)]
LLMUsageServiceDep = Annotated[LLMUsageService, Depends(get_llm_usage_service)]
{% endif %}
{% endif %}
{% if cookiecutter.auth != "none" %}
{% if jwt %}


async def get_auth_service(
    request: Request,
    settings: SettingsDep,
    tokens: TokenCodecDep,
    passwords: PasswordHasherDep,
    limiter: RateLimiterDep,
) -> AuthService:
    sessions: async_sessionmaker[AsyncSession] = request.state.db_sessions
    return AuthService(sessions, tokens, passwords, limiter, settings)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
{% endif %}
{% if api_keys %}


async def get_api_key_service(
    session: SessionDep, audit: AuditTrailDep, principal: PrincipalDep
) -> ApiKeyService:
    return ApiKeyService(session, audit, principal)


ApiKeyServiceDep = Annotated[ApiKeyService, Depends(get_api_key_service)]
{% endif %}
{% endif %}
{% if cookiecutter.auth != "none" and cookiecutter.redis == "yes" %}


async def get_job_queue(request: Request, principal: PrincipalDep) -> JobQueue:
    """The job queue as the caller sees it: their own jobs (an admin: everyone's)."""
    queue: JobQueue = request.state.job_queue
    return queue.of(principal.user_id.hex, sees_all=principal.is_admin)
{% elif cookiecutter.redis == "yes" %}


async def get_job_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.state.job_queue
    return queue
{% else %}


async def get_job_queue(background_tasks: BackgroundTasks, settings: SettingsDep) -> JobQueue:
    return JobQueue(background_tasks, max_payload_bytes=settings.job_max_payload_bytes)
{% endif %}


{% if cookiecutter.auth != "none" %}
async def limit_jobs(
    principal: PrincipalDep, settings: SettingsDep, limiter: RateLimiterDep
) -> None:
    """429 once the caller queued ``JOB_RATE_LIMIT`` jobs; counted per user."""
    caller = f"user:{principal.user_id}"
{% else %}
async def limit_jobs(request: Request, settings: SettingsDep, limiter: RateLimiterDep) -> None:
    """429 once the caller queued ``JOB_RATE_LIMIT`` jobs; counted per client IP (behind a
    proxy, run uvicorn with ``--forwarded-allow-ips`` so that this is the client's).
    """
    caller = f"ip:{request.client.host if request.client else 'unknown'}"
{% endif %}
{% if cookiecutter.redis == "yes" %}
    # Per queue too: services sharing a Redis (and its counters) have queues of their own.
    await limiter.hit(parse(settings.job_rate_limit), "jobs", settings.job_queue_name, caller)
{% else %}
    await limiter.hit(parse(settings.job_rate_limit), "jobs", caller)
{% endif %}


JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]
