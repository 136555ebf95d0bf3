"""Request bodies and query parameters."""

from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from {{ cookiecutter.package_name }}.database.models import UserRole

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(max_length=10_000)]


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


class UserUpdate(Patch):
    email: EmailStr | None = None
    name: Name | None = None
    role: UserRole | None = None
    is_active: bool | None = None


class NoteCreate(RequestBody):
    owner_id: UUID
    title: Title
    body: Body = ""


class NoteUpdate(Patch):
    title: Title | None = None
    body: Body | None = None


class PageQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100, description="Items per page.")
    offset: int = Field(default=0, ge=0, description="Items to skip.")


class UserQuery(PageQuery):
    role: UserRole | None = None
    is_active: bool | None = None


class NoteQuery(PageQuery):
    owner_id: UUID | None = None


class AuditLogQuery(PageQuery):
    entity_type: str | None = Field(default=None, max_length=64, examples=["users"])
    entity_id: str | None = Field(default=None, max_length=64)
    request_id: str | None = Field(default=None, max_length=64)
