"""Readiness checks: each enabled dependency answers within a timeout, or fails."""

import asyncio
import time
from collections.abc import Mapping

import structlog

from {{ cookiecutter.package_name }}.core.health import CheckFailedError, HealthCheck
from {{ cookiecutter.package_name }}.models.responses import CheckResult, ReadinessResponse

logger = structlog.get_logger(__name__)


async def _run_check(name: str, check: HealthCheck, check_timeout: float) -> CheckResult:
    start = time.perf_counter()
    detail: str | None = None
    try:
        async with asyncio.timeout(check_timeout):
            await check()
    except TimeoutError:
        detail = f"timed out after {check_timeout:g}s"
    except CheckFailedError as exc:
        detail = str(exc)
    except Exception as exc:
        # Any failure means "not ready". The exception text may hold hosts or
        # credentials: log it, show only its type.
        logger.warning("health_check_failed", check=name, error=repr(exc))
        detail = type(exc).__name__
    duration_ms = round((time.perf_counter() - start) * 1000, 2)
    return CheckResult(status="fail" if detail else "ok", detail=detail, duration_ms=duration_ms)


async def check_readiness(
    checks: Mapping[str, HealthCheck], check_timeout: float
) -> ReadinessResponse:
    results = await asyncio.gather(
        *(_run_check(name, check, check_timeout) for name, check in checks.items())
    )
    by_name = dict(zip(checks, results, strict=True))
    ready = all(result.status == "ok" for result in results)
    return ReadinessResponse(status="ok" if ready else "unavailable", checks=by_name)
