{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
"""Every route needs a credential with a scope, unless it is on the public list below.

A new route without ``require_scopes`` fails here: add the scope, or, if it really is
for anyone, add it to ``PUBLIC`` (and to the public routes of ``docs/security.md``).
"""

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.dependencies import get_current_principal
from {{ cookiecutter.package_name }}.main import create_app

PUBLIC = {
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
{% if cookiecutter.observability == "yes" %}
    ("GET", "/metrics"),
{% endif %}
    ("GET", "/api/v1/meta"),
{% if jwt %}
    # Each takes its own proof: a password, a refresh token, or a new account's details.
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/register"),
{% if cookiecutter.oidc_signin == "yes" %}
    # Signing in through a provider: the provider's word is the proof.
    ("GET", "/api/v1/auth/oidc/{provider}/login"),
    ("GET", "/api/v1/auth/oidc/{provider}/callback"),
{% endif %}
{% endif %}
}
"""(method, path) of the routes anyone may call."""
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
"""FastAPI's own pages: the API's description, public like ``/api/v1/meta``."""


def dependencies(dependant: Dependant) -> list[Dependant]:
    """Every dependency of a route, however deep."""
    found = []
    for dependency in dependant.dependencies:
        found += [dependency, *dependencies(dependency)]
    return found


def guards(dependant: Dependant) -> set[str]:
    """What protects a route: "principal" (a credential) and "scopes" (``require_scopes``)."""
    calls = [dependency.call for dependency in dependencies(dependant)]
    found = set()
    if get_current_principal in calls:
        found.add("principal")
    if any(getattr(call, "__qualname__", "").startswith("require_scopes.") for call in calls):
        found.add("scopes")
    return found


def test_every_route_needs_a_scope_unless_it_is_public(settings: Settings) -> None:
    app = create_app(settings)
    unguarded, routes = [], set()

    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            assert route.path in DOCS, f"unexpected route {route.path}"
            continue
        # The route as included: with the dependencies of every router on the way.
        dependant: Dependant = route.dependant
        for method in route.methods or ():
            routes.add((method, route.path))
            if (method, route.path) not in PUBLIC and guards(dependant) != {"principal", "scopes"}:
                unguarded.append(f"{method} {route.path}")

    assert unguarded == [], "routes without require_scopes, and not listed as public"
    assert routes >= PUBLIC, f"public routes that do not exist: {PUBLIC - routes}"
