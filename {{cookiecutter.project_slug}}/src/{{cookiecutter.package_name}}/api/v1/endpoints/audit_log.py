"""The audit trail: every create, update and delete, with the request that made it."""

from typing import Annotated

{% if cookiecutter.auth != "none" %}
from fastapi import APIRouter, Depends, Query

from {{ cookiecutter.package_name }}.core.authorization import Scope
from {{ cookiecutter.package_name }}.core.dependencies import AuditTrailDep, require_scopes
{% else %}
from fastapi import APIRouter, Query

from {{ cookiecutter.package_name }}.core.dependencies import AuditTrailDep
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.requests import AuditLogQuery
from {{ cookiecutter.package_name }}.models.responses import AuditLogEntryResponse, AuditLogPage

{% if cookiecutter.auth != "none" %}
router = APIRouter(
    prefix="/audit-log",
    tags=["audit"],
    dependencies=[Depends(require_scopes(Scope.AUDIT_READ))],
    responses=problem_responses(401, 403, 429, 503),
)
{% else %}
router = APIRouter(prefix="/audit-log", tags=["audit"], responses=problem_responses(503))
{% endif %}


@router.get("", summary="Changes to entities, newest first, optionally filtered")
async def list_audit_log(
    query: Annotated[AuditLogQuery, Query()], audit: AuditTrailDep
) -> AuditLogPage:
    entries, total = await audit.get_page(query)
    return AuditLogPage(
        items=[AuditLogEntryResponse.model_validate(entry) for entry in entries],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )
