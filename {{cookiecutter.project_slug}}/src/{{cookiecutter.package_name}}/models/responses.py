"""Response bodies."""

{% if cookiecutter.database != "none" %}
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from {{ cookiecutter.package_name }}.core.domain import AuditAction, UserRole
{% else %}
from typing import Literal

from pydantic import BaseModel
{% endif %}


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
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}


class TokenResponse(BaseModel):
    """OAuth2 token response (RFC 6749, section 5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Spent by its first use: keep the new one.")
    scope: str = Field(description="The granted scopes, separated by spaces.")
{% endif %}
{% if cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}


class ApiKeyResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    owner_id: UUID
    name: str
    prefix: str = Field(description="The start of the key, to recognise it; not a secret.")
    scopes: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="To the minute.")
    created_at: datetime


class ApiKeyCreated(ApiKeyResponse):
    key: str = Field(description="The key itself: shown this once, store it now.")


class ApiKeyPage(Page):
    items: list[ApiKeyResponse]
{% endif %}
