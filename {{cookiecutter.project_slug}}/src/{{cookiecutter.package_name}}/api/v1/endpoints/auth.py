"""Log in, refresh, log out, register: the OAuth2 password flow with rotating refresh tokens."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from {{ cookiecutter.package_name }}.core.authorization import Principal, Scope
from {{ cookiecutter.package_name }}.core.dependencies import AuthServiceDep, require_scopes
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.requests import (
    MAX_EMAIL_CHARS,
    NO_NUL,
    PasswordChange,
    RefreshRequest,
    Registration,
)
from {{ cookiecutter.package_name }}.models.responses import TokenResponse, UserResponse
from {{ cookiecutter.package_name }}.services.auth_service import IssuedTokens

router = APIRouter(prefix="/auth", tags=["auth"], responses=problem_responses(401, 429, 503))


async def client_ip(request: Request) -> str:
    """The client's address; behind a proxy, run uvicorn with --forwarded-allow-ips."""
    return request.client.host if request.client else "unknown"


ClientIpDep = Annotated[str, Depends(client_ip)]


class LoginForm(OAuth2PasswordRequestForm):
    """The OAuth2 password flow's form, whose username is an email address.

    Its checks also cover multipart forms, whose body the edge middleware does not parse.
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[
            str,
            Form(max_length=MAX_EMAIL_CHARS, pattern=NO_NUL, description="Your email address."),
        ],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form(description="Scopes, separated by spaces.")] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


def token_response(issued: IssuedTokens) -> TokenResponse:
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        scope=" ".join(issued.scopes),
    )


@router.post(
    "/token",
    summary="Log in with email (as username) and password",
    responses=problem_responses(400, 429),
)
async def log_in(
    form: Annotated[LoginForm, Depends()], auth: AuthServiceDep, ip: ClientIpDep
) -> TokenResponse:
    """Scopes may be requested (separated by spaces); the role's scopes are granted by default."""
    issued = await auth.login(form.username, form.password, form.scopes, ip)
    return token_response(issued)


@router.post(
    "/refresh", summary="Swap a refresh token for new tokens", responses=problem_responses(429)
)
async def refresh(body: RefreshRequest, auth: AuthServiceDep, ip: ClientIpDep) -> TokenResponse:
    """The refresh token is spent: using it again ends the login (reuse detection)."""
    return token_response(await auth.refresh(body.refresh_token, ip))


@router.post(
    "/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End the login of a refresh token"
)
async def log_out(body: RefreshRequest, auth: AuthServiceDep, ip: ClientIpDep) -> None:
    """Its access and refresh tokens stop working at once."""
    await auth.logout(body.refresh_token, ip)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create your account",
    responses=problem_responses(409, 429),
)
async def register(body: Registration, auth: AuthServiceDep, ip: ClientIpDep) -> UserResponse:
    return UserResponse.model_validate(await auth.register(body, ip))


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change your password; every login of yours ends",
    responses=problem_responses(403, 429),
)
async def change_password(
    body: PasswordChange,
    principal: Annotated[Principal, Depends(require_scopes(Scope.PROFILE))],
    auth: AuthServiceDep,
) -> None:
    await auth.change_password(
        principal,
        body.current_password.get_secret_value(),
        body.new_password.get_secret_value(),
    )
