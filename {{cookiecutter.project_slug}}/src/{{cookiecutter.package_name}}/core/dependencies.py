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

from fastapi import Depends, Request
{% if cookiecutter.database != "none" %}
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
{% endif %}

from {{ cookiecutter.package_name }}.core.config import Settings
{% if rate_limited %}
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
{% endif %}
from {{ cookiecutter.package_name }}.services.health_service import HealthCheck
{% if cookiecutter.llm != "none" %}
from {{ cookiecutter.package_name }}.services.llm_service import LLMService
{% endif %}


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_health_checks(request: Request) -> Mapping[str, HealthCheck]:
    checks: Mapping[str, HealthCheck] = request.state.health_checks
    return checks
{% if cookiecutter.database != "none" %}


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: commit on success, roll back on any error."""
    sessions: async_sessionmaker[AsyncSession] = request.state.db_sessions
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
{% endif %}
{% if rate_limited %}


def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.state.rate_limiter
    return limiter
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
{% endif %}


SettingsDep = Annotated[Settings, Depends(get_settings)]
HealthChecksDep = Annotated[Mapping[str, HealthCheck], Depends(get_health_checks)]
{% if cookiecutter.database != "none" %}
SessionDep = Annotated[AsyncSession, Depends(get_session)]
{% endif %}
{% if rate_limited %}
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
{% endif %}
{% if cookiecutter.llm != "none" %}
CallerIdDep = Annotated[str, Depends(get_caller_id)]
LLMServiceDep = Annotated[LLMService, Depends(get_llm_service)]
{% endif %}
