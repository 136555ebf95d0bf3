"""Every route, fed requests generated from the app's own OpenAPI schema (schemathesis).

Whatever the request, valid or not, the service answers without a 5xx and as its
schema says: a documented status code, content type, headers and body, errors as
Problem Details. Requests go to the ``client`` fixture's app, with its real
{% if cookiecutter.auth != "none" and cookiecutter.llm != "none" %}
lifespan and the same dependencies as every other test (signed in; the fake
provider for the LLM routes, so nothing leaves the machine).
{% elif cookiecutter.auth != "none" %}
lifespan and the same dependencies as every other test, signed in.
{% elif cookiecutter.llm != "none" %}
lifespan and the same dependencies as every other test (the fake provider for
the LLM routes, so nothing leaves the machine).
{% else %}
lifespan and the same dependencies as every other test.
{% endif %}

Generation follows the Hypothesis profile (``tests/conftest.py``): by default a few
derandomized examples per operation, valid and invalid (the same every run, so a
failure reproduces and the suite stays fast); ``pytest --hypothesis-profile=deep
tests/test_fuzz.py`` explores with many random ones and adds schemathesis's coverage
phase (every boundary and malformed value of every parameter: hundreds of requests),
e.g. in a nightly run.
"""

from typing import Any

import schemathesis
from httpx import AsyncClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import make_settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Building the app opens nothing, and its routes do not depend on the settings:
# this schema is the one the ``client`` fixture's app serves.
schema = schemathesis.openapi.from_dict(create_app(make_settings()).openapi())
schema.config.phases.coverage.enabled = settings.get_current_profile_name() == "deep"


def httpx_request(case: schemathesis.Case[Any], client: AsyncClient) -> dict[str, Any]:
    """The case as ``AsyncClient.request`` arguments (schemathesis prepares them for requests)."""
    request = case.as_transport_kwargs(base_url=str(client.base_url))
    if cookies := request.pop("cookies", None):
        request["headers"]["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if isinstance(request.get("data"), bytes | str):
        request["content"] = request.pop("data")
    return request


@schema.parametrize()
@settings(
    deadline=None,
{% if cookiecutter.database != "none" %}
    # One app (and database) serves all of an operation's examples: that is the point.
{% else %}
    # One app serves all of an operation's examples: that is the point.
{% endif %}
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
async def test_every_request_gets_a_documented_answer(
    case: schemathesis.Case[Any], client: AsyncClient
) -> None:
    response = await client.request(**httpx_request(case, client))

    case.validate_response(response, checks=CHECKS)
