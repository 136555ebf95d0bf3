"""Request-scoped dependencies: what route functions may ask FastAPI to inject.

Resources are opened by the lifespan in ``main.py`` and reach requests through
the lifespan state (``request.state``); nothing is a module-level global.
"""

{% set rate_limited = cookiecutter.auth != "none" or cookiecutter.llm != "none" %}
{% if cookiecutter.database != "none" %}
from collections.abc import AsyncIterator, Mapping
{% else %}
from collections.abc import Mapping
{% endif %}
from typing import Annotated

{% if cookiecutter.redis == "yes" %}
from arq.connections import ArqRedis
{% endif %}
from fastapi import {{ "" if cookiecutter.redis == "yes" else "BackgroundTasks, " }}Depends, Request
{% if cookiecutter.database != "none" %}
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
{% endif %}

from {{ cookiecutter.package_name }}.core.config import Settings
{% if rate_limited %}
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
{% endif %}
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.database.session import unit_of_work
{% endif %}
from {{ cookiecutter.package_name }}.jobs.queue import JobQueue
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.services.audit_service import AuditTrail
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


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_health_checks(request: Request) -> Mapping[str, HealthCheck]:
    checks: Mapping[str, HealthCheck] = request.state.health_checks
    return checks
{% if cookiecutter.redis == "yes" %}


def get_redis(request: Request) -> ArqRedis:
    redis: ArqRedis = request.state.redis
    return redis


def get_job_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.state.job_queue
    return queue
{% else %}


def get_job_queue(background_tasks: BackgroundTasks) -> JobQueue:
    return JobQueue(background_tasks)
{% endif %}


SettingsDep = Annotated[Settings, Depends(get_settings)]
HealthChecksDep = Annotated[Mapping[str, HealthCheck], Depends(get_health_checks)]
JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]
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


async def get_audit_trail(session: SessionDep) -> AuditTrail:
    return AuditTrail(session)


AuditTrailDep = Annotated[AuditTrail, Depends(get_audit_trail)]


async def get_user_service(session: SessionDep, audit: AuditTrailDep) -> UserService:
    return UserService(session, audit)


async def get_note_service(session: SessionDep, audit: AuditTrailDep) -> NoteService:
    return NoteService(session, audit)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
NoteServiceDep = Annotated[NoteService, Depends(get_note_service)]
{% endif %}
{% if rate_limited %}


def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
{% endif %}
{% if cookiecutter.llm != "none" %}


def get_caller_id(request: Request) -> str:
    """Who is calling, for per-caller limits and usage: the client address, until
    authentication provides a principal (behind a proxy, run uvicorn with
    ``--forwarded-allow-ips`` so that this is the client's and not the proxy's).
    """
    return f"ip:{request.client.host if request.client else 'unknown'}"


def get_llm_service(request: Request) -> LLMService:
    service: LLMService = request.state.llm_service
    return service


CallerIdDep = Annotated[str, Depends(get_caller_id)]
LLMServiceDep = Annotated[LLMService, Depends(get_llm_service)]
{% if cookiecutter.database != "none" %}


def get_usage_scope(caller: CallerIdDep) -> str | None:
    """Whose LLM usage the request may read: the caller's own.

    None stands for every caller's: once authentication tells administrators
    apart, this is the one place that lets them see everyone's.
    """
    return caller


async def get_llm_usage_service(session: SessionDep) -> LLMUsageService:
    return LLMUsageService(session)


UsageScopeDep = Annotated[str | None, Depends(get_usage_scope)]
LLMUsageServiceDep = Annotated[LLMUsageService, Depends(get_llm_usage_service)]
{% endif %}
{% endif %}
