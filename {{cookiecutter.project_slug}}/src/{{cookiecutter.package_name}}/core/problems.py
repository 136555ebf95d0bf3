"""The one error body of this API: RFC 9457 Problem Details (``core/errors.py`` sends it)."""

from pydantic import BaseModel, Field


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
