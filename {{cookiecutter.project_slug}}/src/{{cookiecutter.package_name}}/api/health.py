"""Liveness and readiness probes, outside the versioned API."""

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from {{ cookiecutter.package_name }}.core.dependencies import HealthChecksDep, SettingsDep
from {{ cookiecutter.package_name }}.models.responses import LivenessResponse, ReadinessResponse
from {{ cookiecutter.package_name }}.services.health_service import check_readiness

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", summary="The process is up")
async def live() -> LivenessResponse:
    return LivenessResponse()


@router.get(
    "/ready",
    summary="Every enabled dependency is usable",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": ReadinessResponse}},
)
async def ready(settings: SettingsDep, checks: HealthChecksDep) -> JSONResponse:
    readiness = await check_readiness(checks, settings.health_check_timeout)
    code = status.HTTP_200_OK if readiness.status == "ok" else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse(readiness.model_dump(mode="json"), status_code=code)
