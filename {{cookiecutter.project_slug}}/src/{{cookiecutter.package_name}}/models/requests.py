{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
"""Request bodies and query parameters."""

from typing import Annotated, Any, Self
from uuid import UUID

{% if cookiecutter.auth != "none" %}
from pydantic import (
{% if api_keys %}
    AwareDatetime,
{% endif %}
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
{% if jwt %}
    SecretStr,
{% endif %}
    StringConstraints,
    model_validator,
)
{% else %}
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator
{% endif %}

{% if api_keys %}
from {{ cookiecutter.package_name }}.core.authorization import Scope
from {{ cookiecutter.package_name }}.core.clock import utc_now
{% endif %}
from {{ cookiecutter.package_name }}.core.domain import UserRole

# PostgreSQL cannot store the NUL character in text: refused here, whatever the database
# (the edge middleware refuses it in paths, query strings and URL-encoded forms).
NO_NUL = r"^[^\x00]*$"
# The longest email address there can be (64 characters, @, 255).
MAX_EMAIL_CHARS = 320
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL)
]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)
]
Body = Annotated[str, StringConstraints(max_length=10_000, pattern=NO_NUL)]
{% if jwt %}
Password = Annotated[
    SecretStr,
    Field(min_length=12, max_length=128, description="12 to 128 characters; a passphrase is good."),
]
{% endif %}


class RequestBody(BaseModel):
    """Unknown fields are refused, so a misspelt field is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Patch(RequestBody):
    """A partial update: only the fields sent change, and none may be set to null."""

    @model_validator(mode="after")
    def _refuse_nulls(self) -> Self:
        if nulls := sorted(name for name in self.model_fields_set if getattr(self, name) is None):
            msg = f"may not be null: {', '.join(nulls)}"
            raise ValueError(msg)
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class UserCreate(RequestBody):
    email: EmailStr = Field(description="Unique, whatever its case; stored in lower case.")
    name: Name
    role: UserRole = UserRole.MEMBER
{% if jwt %}
    password: Password | None = Field(
        default=None, description="Without one, the user cannot log in with a password."
    )
{% endif %}


class UserUpdate(Patch):
    email: EmailStr | None = None
    name: Name | None = None
    role: UserRole | None = None
    is_active: bool | None = None


class NoteCreate(RequestBody):
{% if cookiecutter.auth != "none" %}
    owner_id: UUID | None = Field(
        default=None, description="Yourself by default; only admins create notes for others."
    )
{% else %}
    owner_id: UUID
{% endif %}
    title: Title
    body: Body = ""


class NoteUpdate(Patch):
    title: Title | None = None
    body: Body | None = None


# The largest OFFSET SQLite and PostgreSQL take (a signed 64-bit integer).
MAX_OFFSET = 2**63 - 1


class PageQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100, description="Items per page.")
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET, description="Items to skip.")


class UserQuery(PageQuery):
    role: UserRole | None = None
    is_active: bool | None = None


class NoteQuery(PageQuery):
    owner_id: UUID | None = None
    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NO_NUL,
        description="Only notes whose title or body contains this text (any case).",
    )


class AuditLogQuery(PageQuery):
    entity_type: str | None = Field(default=None, max_length=64, pattern=NO_NUL, examples=["users"])
    entity_id: str | None = Field(default=None, max_length=64, pattern=NO_NUL)
    request_id: str | None = Field(default=None, max_length=64, pattern=NO_NUL)
{% if cookiecutter.auth != "none" %}


class ProfileUpdate(Patch):
    """What users may change about themselves (roles and activation are for admins)."""

    email: EmailStr | None = None
    name: Name | None = None
{% if jwt %}


class Registration(RequestBody):
    email: EmailStr
    name: Name
    password: Password


class RefreshRequest(RequestBody):
    refresh_token: str = Field(max_length=4096)


class PasswordChange(RequestBody):
    current_password: SecretStr = Field(max_length=128)
    new_password: Password
{% endif %}
{% if api_keys %}


class ApiKeyCreate(RequestBody):
    name: Name = Field(description="What the key is for, to tell keys apart.")
    scopes: list[Scope] = Field(min_length=1, description="At most the scopes you have.")
    expires_at: AwareDatetime | None = Field(default=None, description="Never, by default.")
    owner_id: UUID | None = Field(
        default=None, description="Yourself by default; only admins create keys for others."
    )

    @model_validator(mode="after")
    def _refuse_past_expiry(self) -> Self:
        if self.expires_at is not None and self.expires_at <= utc_now():
            msg = "expires_at must be in the future"
            raise ValueError(msg)
        return self


class ApiKeyQuery(PageQuery):
    owner_id: UUID | None = None
{% endif %}
{% endif %}
