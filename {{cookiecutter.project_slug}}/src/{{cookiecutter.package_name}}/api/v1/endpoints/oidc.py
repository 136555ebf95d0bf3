"""Sign in through an OpenID Connect provider: the authorization code flow, with PKCE.

A browser opens ``login``, which sends it on to the provider; the provider sends it
back to ``callback``, which answers with this service's tokens, as ``/auth/token`` does.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
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


def redirect_uri(request: Request, settings: SettingsDep, provider: str) -> str:
    """The callback's public URL: what the provider sends the browser back to."""
    path: str = request.app.url_path_for(CALLBACK, provider=provider)
    return settings.oidc_redirect_base_url.rstrip("/") + path


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
    """Redirects to the provider, with a state, a nonce and a PKCE challenge of its own."""
    url = await oidc.begin(provider, redirect_uri(request, settings, provider), ip)
    return RedirectResponse(url, status_code=status.HTTP_302_FOUND)


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
    state: Annotated[str, Query(min_length=1, max_length=128)],
    code: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> TokenResponse:
    """Each state works once. Without a code (the user said no), the sign-in ends: 401."""
    issued = await oidc.finish(
        provider,
        code=code,
        state=state,
        redirect_uri=redirect_uri(request, settings, provider),
        client_ip=ip,
    )
    return token_response(issued)
