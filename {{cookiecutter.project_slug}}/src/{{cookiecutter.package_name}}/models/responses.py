"""Response bodies."""

{% if cookiecutter.database != "none" %}
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from {{ cookiecutter.package_name }}.database.models import AuditAction, UserRole
{% else %}
from typing import Literal

from pydantic import BaseModel, Field
{% endif %}


class FieldError(BaseModel):
    """One invalid field of a request."""

    loc: list[str | int] = Field(
        description="Where the field is: body, query, path or header, then its path."
    )
    msg: str
    type: str


class ProblemDetail(BaseModel):
    """The one error shape of this API: RFC 9457 Problem Details, with extensions."""

    type: str = Field(default="about:blank", description="URI identifying the problem type.")
    title: str = Field(description="Short summary of the problem type.")
    status: int = Field(description="HTTP status code.")
    detail: str | None = Field(default=None, description="What happened on this occurrence.")
    instance: str | None = Field(default=None, description="The request path.")
    code: str = Field(description="Stable, machine-readable error code.")
    request_id: str | None = Field(default=None, description="Quote it when reporting a problem.")
    errors: list[FieldError] | None = Field(default=None, description="Invalid request fields.")


class LivenessResponse(BaseModel):
    status: Literal["ok"] = "ok"


class CheckResult(BaseModel):
    status: Literal["ok", "fail"]
    detail: str | None = None
    duration_ms: float


class ReadinessResponse(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, CheckResult]


class ServiceInfo(BaseModel):
    name: str
    version: str
    environment: str
{% if cookiecutter.database != "none" %}


class Page(BaseModel):
    total: int = Field(description="Items matching the filters, on all pages.")
    limit: int
    offset: int


class UserResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    name: str
    role: UserRole
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UserPage(Page):
    items: list[UserResponse]


class UserSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    name: str


class NoteResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    owner: UserSummary
    title: str
    body: str
    created_at: datetime
    updated_at: datetime


class NotePage(Page):
    items: list[NoteResponse]


class AuditLogEntryResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    created_at: datetime
    actor: str | None
    action: AuditAction
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class AuditLogPage(Page):
    items: list[AuditLogEntryResponse]
{% endif %}
