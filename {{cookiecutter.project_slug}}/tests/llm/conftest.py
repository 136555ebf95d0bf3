{% set anthropic = cookiecutter.llm in ["anthropic", "anthropic_and_openai"] %}
{% set openai = cookiecutter.llm in ["openai", "anthropic_and_openai"] %}
{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
"""Fixtures: a stub of the providers' APIs, and the app configured to call it.

Tests run once per provider (the ``providers`` fixture); a test that needs
another set of providers parametrizes ``providers`` itself.
{% if cookiecutter.auth != "none" %}

The clients of ``serve``, ``client`` and ``live`` are signed in as the admin.
{% endif %}
"""

import importlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
{% if cookiecutter.auth != "none" %}
from fastapi import FastAPI
{% endif %}
from httpx import AsyncClient, Response
from pydantic import SecretStr
from starlette.types import ASGIApp

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
{% if cookiecutter.auth != "none" %}
from tests.conftest import Serve, Start, app_of
{% else %}
from tests.conftest import Start, app_of
{% endif %}
from tests.llm.stub import ProviderStub, StubProvider, Switchboard, serve_over_http

OverHttp = Callable[[ASGIApp], AbstractAsyncContextManager[str]]

API_KEYS = {
{% if anthropic %}
    "anthropic": "sk-ant-test-0123456789",
{% endif %}
{% if openai %}
    "openai": "sk-openai-test-0123456789",
{% endif %}
}
COMPLETE = "/api/v1/llm/complete"
STREAM = "/api/v1/llm/stream"
SECOND_MODEL = {
{% if anthropic %}
    "anthropic": "claude-sonnet-4-6",
{% endif %}
{% if openai %}
    "openai": "gpt-4.1",
{% endif %}
}
EACH_PROVIDER: list[list[ProviderName]] = [
{% if anthropic %}
    ["anthropic"],
{% endif %}
{% if openai %}
    ["openai"],
{% endif %}
]


# Imported by the app on a provider's first call (its cold start), which takes a second
# or more, several on a busy machine.
PROVIDER_MODULES = [
{% if anthropic %}
    "{{ cookiecutter.package_name }}.services.llm.providers.anthropic",
{% endif %}
{% if openai %}
    "{{ cookiecutter.package_name }}.services.llm.providers.openai",
{% endif %}
]


@pytest.fixture(scope="session", autouse=True)
def provider_sdks() -> None:
    """The providers' modules imported once, first: no test's first call waits for them."""
    for module in PROVIDER_MODULES:
        importlib.import_module(module)


@pytest.fixture(scope="session")
async def stub_server() -> AsyncIterator[tuple[str, Switchboard]]:
    """The providers' stub server, started once: its URL and its switchboard."""
    switchboard = Switchboard()
    async with serve_over_http(switchboard) as url:
        yield url, switchboard


@pytest.fixture(scope="session")
async def app_server() -> AsyncIterator[tuple[str, Switchboard]]:
    """The server of the apps that tests reach over real HTTP, started once."""
    switchboard = Switchboard()
    async with serve_over_http(switchboard) as url:
        yield url, switchboard


@pytest.fixture
def over_http(app_server: tuple[str, Switchboard]) -> OverHttp:
    """Serve an app over real HTTP (streams, disconnects) for the block; yield its URL."""
    url, switchboard = app_server

    @asynccontextmanager
    async def serving(app: ASGIApp) -> AsyncIterator[str]:
        with switchboard.plugged(app):
            yield url

    return serving


@pytest.fixture
def stub(stub_server: tuple[str, Switchboard]) -> Iterator[ProviderStub]:
    """A stub of this test's own, plugged into the stub server."""
    url, switchboard = stub_server
    stub = ProviderStub()
    stub.url = url
    with switchboard.plugged(stub.app()):
        yield stub
        stub.release_all()


def provider_ids(providers: list[ProviderName]) -> str:
    return "+".join(providers)


@pytest.fixture(params=EACH_PROVIDER, ids=provider_ids)
def providers(request: pytest.FixtureRequest) -> list[ProviderName]:
    chosen: list[ProviderName] = request.param
    return chosen


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """In a module of tests of the service around the providers (``ONE_PROVIDER = True``),
    the first provider stands for them all; the providers' own tests run on each."""
    if not getattr(metafunc.module, "ONE_PROVIDER", False):
        return
    markers = metafunc.definition.iter_markers("parametrize")
    own = any("providers" in marker.args[0] for marker in markers)
    if "providers" in metafunc.fixturenames and not own:
        first = pytest.mark.parametrize("providers", EACH_PROVIDER[:1], ids=provider_ids)
        metafunc.definition.add_marker(first)


@pytest.fixture
def primary(stub: ProviderStub, providers: list[ProviderName]) -> StubProvider:
    """The stub of the provider tried first."""
    return stub[providers[0]]


@pytest.fixture
def settings(settings: Settings, stub: ProviderStub, providers: list[ProviderName]) -> Settings:
    """Settings for the stub, with JSON logs.

    Tests that read the logs create their app themselves, once ``capsys`` captures.
    """
    return settings.model_copy(
        update={
            "llm_providers": providers,
{% if anthropic %}
            "anthropic_api_key": SecretStr(API_KEYS["anthropic"]),
            "anthropic_base_url": f"{stub.url}/anthropic",
{% endif %}
{% if openai %}
            "openai_api_key": SecretStr(API_KEYS["openai"]),
            "openai_base_url": f"{stub.url}/openai/v1",
{% endif %}
{% if cookiecutter.rag == "yes" and cookiecutter.llm == "anthropic" %}
            "embedding_provider": "voyage",
            "embedding_api_key": SecretStr("pa-voyage-test-0123456789"),
            "embedding_base_url": f"{stub.url}/voyage/v1",
{% elif cookiecutter.rag == "yes" %}
            "embedding_provider": "openai",
{% endif %}
            "llm_retry_base_delay": 0.0,
            "log_json": True,
        }
    )


{% if cookiecutter.auth != "none" %}
@pytest.fixture
def serve(serve: Serve, admin_headers: dict[str, str]) -> Serve:
    """Serve an app, with a client signed in as the admin: the LLM routes need a principal."""

    @asynccontextmanager
    async def signed_in(app: FastAPI) -> AsyncIterator[AsyncClient]:
        async with serve(app) as http:
            http.headers.update(admin_headers)
            yield http

    return signed_in


@pytest.fixture
async def client(settings: Settings, serve: Serve) -> AsyncIterator[AsyncClient]:
    """A client signed in as the admin."""
    async with serve(app_of(settings)) as http:
        yield http


@pytest.fixture
async def live(
    settings: Settings, start: Start, over_http: OverHttp, admin_headers: dict[str, str]
) -> AsyncIterator[AsyncClient]:
    """A client of the app served over real HTTP, for streams and disconnects."""
    async with (
        start(app_of(settings)) as app,
        over_http(app) as url,
        AsyncClient(base_url=url, headers=admin_headers) as client,
    ):
        yield client
{% else %}
@pytest.fixture
async def live(settings: Settings, start: Start, over_http: OverHttp) -> AsyncIterator[AsyncClient]:
    """A client of the app served over real HTTP, for streams and disconnects."""
    async with (
        start(app_of(settings)) as app,
        over_http(app) as url,
        AsyncClient(base_url=url) as client,
    ):
        yield client
{% endif %}


def log_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def calls_logged(output: str) -> list[dict[str, Any]]:
    return [line for line in log_lines(output) if line["event"] == "llm_call"]


async def sse_events(response: Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of a Server-Sent Events response, as they arrive."""
    event, data = "message", ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif not line and data:
            yield event, json.loads(data)
            event, data = "message", ""
