"""The application's exception hierarchy and its mapping to Problem Details responses.

Services raise ``AppError`` subclasses; the handlers registered here turn them,
FastAPI's HTTP and validation errors, into one response shape
(``application/problem+json``). Unexpected exceptions are handled by the request
logging middleware, which answers 500 with only the request ID.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from {{ cookiecutter.package_name }}.core.problems import FieldError, ProblemDetail

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """Base of all errors the API reports on purpose."""

    status_code: ClassVar[int] = HTTPStatus.INTERNAL_SERVER_ERROR
    code: ClassVar[str] = "internal_error"
    errors: list[FieldError] | None = None

    def __init__(self, detail: str | None = None, *, headers: Mapping[str, str] | None = None):
        super().__init__(detail or HTTPStatus(self.status_code).phrase)
        self.detail = detail
        self.headers = dict(headers or {})


class BadRequestError(AppError):
    status_code = HTTPStatus.BAD_REQUEST
    code = "bad_request"


class UnauthorizedError(AppError):
    status_code = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"


class ForbiddenError(AppError):
    status_code = HTTPStatus.FORBIDDEN
    code = "forbidden"


class NotFoundError(AppError):
    status_code = HTTPStatus.NOT_FOUND
    code = "not_found"


class ConflictError(AppError):
    status_code = HTTPStatus.CONFLICT
    code = "conflict"


class RequestBodyTimeoutError(AppError):
    """The request body did not arrive within ``REQUEST_BODY_TIMEOUT``."""

    status_code = HTTPStatus.REQUEST_TIMEOUT
    code = "body_timeout"


class PayloadTooLargeError(AppError):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"


class InvalidRequestError(AppError):
    """A request refused before it reaches a route, with the fields at fault."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "validation_error"

    def __init__(self, detail: str, *, errors: list[FieldError]):
        super().__init__(detail)
        self.errors = errors


class RateLimitedError(AppError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS
    code = "rate_limited"

    def __init__(self, detail: str | None = None, *, retry_after: int):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class HeadersTooLargeError(AppError):
    """More header fields, or more header bytes, than the service takes."""

    status_code = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    code = "headers_too_large"


class ServiceUnavailableError(AppError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "service_unavailable"


class RequestTimeoutError(AppError):
    """The service did not start answering within ``REQUEST_TIMEOUT``."""

    status_code = HTTPStatus.GATEWAY_TIMEOUT
    code = "timeout"


def problem_response(
    *,
    status: int,
    code: str,
    detail: str | None,
    instance: str | None,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    problem = ProblemDetail(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        code=code,
        request_id=correlation_id.get(),
        errors=errors,
    )
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=int(status),
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def _status_code(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")


async def _app_error(request: Request, exc: AppError) -> JSONResponse:
    return problem_response(
        status=exc.status_code,
        code=exc.code,
        detail=exc.detail,
        instance=request.url.path,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return problem_response(
        status=exc.status_code,
        code=_status_code(exc.status_code),
        detail=exc.detail,
        instance=request.url.path,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        FieldError(loc=list(error["loc"]), msg=error["msg"], type=error["type"])
        for error in exc.errors()
    ]
    return problem_response(
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
        code="validation_error",
        detail="The request is invalid; see errors.",
        instance=request.url.path,
        errors=errors,
    )


def register_error_handlers(app: FastAPI) -> None:
    app.exception_handler(AppError)(_app_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(RequestValidationError)(_validation_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries documenting the error shape for the given statuses."""
    return {
        status: {
            "model": ProblemDetail,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}},
        }
        for status in statuses
    }
