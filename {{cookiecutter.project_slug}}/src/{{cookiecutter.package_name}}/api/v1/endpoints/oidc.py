"""Sign in through an OpenID Connect provider: the authorization code flow, with PKCE.

A browser opens ``login``, which sends it on to the provider; the provider sends it
back to ``callback``, which answers with this service's tokens, as ``/auth/token`` does.
``login`` leaves the sign-in's state in a cookie only the callback gets: a callback
from any other browser is refused.
"""

from typing import Annotated

from fastapi import APIRouter, Cookie, Path, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from {{ cookiecutter.package_name }}.api.v1.endpoints.auth import ClientIpDep, token_response
from {{ cookiecutter.package_name }}.core.dependencies import OidcServiceDep, SettingsDep
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.responses import TokenResponse

router = APIRouter(prefix="/auth/oidc", tags=["auth"], responses=problem_responses(404, 429, 503))

ProviderName = Annotated[
    str, Path(pattern="^[a-z0-9][a-z0-9_-]*$", max_length=32, description="As in OIDC_PROVIDERS.")
]
CALLBACK = "oidc_callback"
STATE_COOKIE = "oidc_state"


def callback_path(request: Request, provider: str) -> str:
    path: str = request.app.url_path_for(CALLBACK, provider=provider)
    return path


def redirect_uri(request: Request, settings: SettingsDep, provider: str) -> str:
    """The callback's public URL: what the provider sends the browser back to."""
    return settings.oidc_redirect_base_url.rstrip("/") + callback_path(request, provider)


@router.get(
    "/{provider}/login",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    summary="Start signing in through a provider",
)
async def oidc_login(
    provider: ProviderName,
    request: Request,
    settings: SettingsDep,
    oidc: OidcServiceDep,
    ip: ClientIpDep,
) -> RedirectResponse:
    """Redirects to the provider, with a state, a nonce and a PKCE challenge of its own;
    the state also stays with the browser, in a cookie for the callback only."""
    start = await oidc.begin(provider, redirect_uri(request, settings, provider), ip)
    response = RedirectResponse(start.url, status_code=status.HTTP_302_FOUND)
    response.set_cookie(
        STATE_COOKIE,
        start.state,
        max_age=settings.oidc_state_ttl_seconds,
        path=callback_path(request, provider),
        secure=settings.oidc_redirect_base_url.startswith("https://"),
        httponly=True,
        # Sent on the provider's redirect back (a top-level GET), not on other sites' requests.
        samesite="lax",
    )
    return response


@router.get(
    "/{provider}/callback",
    name=CALLBACK,
    summary="Finish signing in: the provider sends the browser here",
    responses=problem_responses(401, 403),
)
async def oidc_callback(
    provider: ProviderName,
    request: Request,
    settings: SettingsDep,
    oidc: OidcServiceDep,
    ip: ClientIpDep,
    response: Response,
    state: Annotated[str, Query(min_length=1, max_length=128)],
    code: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
    browser_state: Annotated[
        str | None,
        Cookie(alias=STATE_COOKIE, max_length=128, description="Set by `login`."),
    ] = None,
) -> TokenResponse:
    """Each state works once, in the browser that started the sign-in. Without a code (the
    user said no), the sign-in ends: 401."""
    issued = await oidc.finish(
        provider,
        code=code,
        state=state,
        browser_state=browser_state,
        redirect_uri=redirect_uri(request, settings, provider),
        client_ip=ip,
    )
    response.delete_cookie(STATE_COOKIE, path=callback_path(request, provider))
    return token_response(issued)
