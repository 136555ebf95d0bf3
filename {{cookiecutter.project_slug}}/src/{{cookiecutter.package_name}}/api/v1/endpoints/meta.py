"""What this service is."""

from fastapi import APIRouter

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
from {{ cookiecutter.package_name }}.models.responses import ServiceInfo

router = APIRouter(prefix="/meta", tags=["meta"])


@router.get("", summary="Name, version and environment of this service")
async def service_info(settings: SettingsDep) -> ServiceInfo:
    return ServiceInfo(
        name=settings.app_name, version=__version__, environment=settings.environment
    )
