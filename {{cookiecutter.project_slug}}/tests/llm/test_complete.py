{% set anthropic = cookiecutter.llm in ["anthropic", "anthropic_and_openai"] %}
{% set openai = cookiecutter.llm in ["openai", "anthropic_and_openai"] %}
"""Completions through the real SDKs: usage, cost, prompt caching and the response cache."""

{% if cookiecutter.redis == "yes" %}
from collections.abc import AsyncIterator
from uuid import uuid4

{% endif %}
import pytest
from httpx import AsyncClient
{% if cookiecutter.redis == "yes" %}
from redis.asyncio import Redis
{% endif %}

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
{% if anthropic or cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.main import create_app
{% endif %}
{% if cookiecutter.redis == "yes" %}
from tests.conftest import Serve, redis_settings
{% elif anthropic %}
from tests.conftest import Serve
{% endif %}
from tests.llm.conftest import API_KEYS, COMPLETE, SECOND_MODEL
from tests.llm.stub import Reply, StubProvider


def per_million(tokens: int, dollars: float) -> float:
    return tokens * dollars / 1_000_000


async def test_a_completion_reports_its_usage_and_cost(
    client: AsyncClient, primary: StubProvider, settings: Settings, providers: list[ProviderName]
) -> None:
    primary.will(Reply(text="Hello there", input_tokens=1000, output_tokens=200))

    response = await client.post(COMPLETE, json={"prompt": "Say hello", "max_tokens": 300})

    assert response.status_code == 200
    body = response.json()
    model = body["model"]
    price = settings.llm_prices[model]
    assert body["text"] == "Hello there"
    assert body["provider"] == providers[0]
    assert body["usage"] == {
        "input_tokens": 1000,
        "output_tokens": 200,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "total_tokens": 1200,
    }
    assert body["cost"] == pytest.approx(
        per_million(1000, price.input) + per_million(200, price.output)
    )
    assert body["cached"] is False
    assert body["request_id"] == response.headers["x-request-id"]
    [sent] = primary.received
    assert sent.body["model"] == model
    assert sent.body["messages"][-1] == {"role": "user", "content": "Say hello"}
    assert "temperature" not in sent.body
    assert sent.headers["authorization"] == f"Bearer {API_KEYS[providers[0]]}"
{% if anthropic and openai %}
    max_tokens = "max_tokens" if providers[0] == "anthropic" else "max_completion_tokens"
    assert sent.body[max_tokens] == 300
{% elif anthropic %}
    assert sent.body["max_tokens"] == 300
{% else %}
    assert sent.body["max_completion_tokens"] == 300
{% endif %}


async def test_a_conversation_and_a_system_prompt_reach_the_provider(
    client: AsyncClient, primary: StubProvider, providers: list[ProviderName]
) -> None:
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "How are you?"},
    ]

    response = await client.post(
        COMPLETE, json={"messages": messages, "system": "Be brief.", "temperature": 0.5}
    )

    assert response.status_code == 200
    [sent] = primary.received
    assert sent.body["temperature"] == 0.5
{% if anthropic %}
    if providers[0] == "anthropic":
        assert sent.body["system"] == "Be brief."
        assert sent.body["messages"] == messages
{% endif %}
{% if openai %}
    if providers[0] == "openai":
        assert sent.body["messages"] == [{"role": "system", "content": "Be brief."}, *messages]
{% endif %}
{% if anthropic %}


@pytest.mark.parametrize("providers", [["anthropic"]])
async def test_anthropic_prompt_caching_is_requested_reported_and_costed(
    settings: Settings, serve: Serve, primary: StubProvider
) -> None:
    primary.will(
        Reply(input_tokens=1000, cache_read_tokens=600, cache_write_tokens=300, output_tokens=50)
    )
    caching = settings.model_copy(update={"anthropic_prompt_caching": True})

    async with serve(create_app(caching)) as client:
        response = await client.post(
            COMPLETE, json={"prompt": "Summarise the manual.", "system": "A long manual..."}
        )

    body = response.json()
    price = settings.llm_prices[body["model"]]
    # Anthropic's input_tokens leaves out the cache tokens; the response counts them all.
    assert body["usage"]["input_tokens"] == 1000
    assert body["usage"]["cache_read_tokens"] == 600
    assert body["usage"]["cache_write_tokens"] == 300
    assert body["cost"] == pytest.approx(
        per_million(100, price.input)
        + per_million(600, price.cache_read)
        + per_million(300, price.cache_write)
        + per_million(50, price.output)
    )
    [sent] = primary.received
    assert sent.body["cache_control"] == {"type": "ephemeral"}
    assert sent.body["system"] == [
        {"type": "text", "text": "A long manual...", "cache_control": {"type": "ephemeral"}}
    ]
{% endif %}
{% if openai %}


@pytest.mark.parametrize("providers", [["openai"]])
async def test_openai_cached_prompt_tokens_are_reported_and_costed(
    client: AsyncClient, primary: StubProvider, settings: Settings
) -> None:
    primary.will(Reply(input_tokens=1000, cache_read_tokens=600, output_tokens=50))

    body = (await client.post(COMPLETE, json={"prompt": "Summarise the manual."})).json()

    price = settings.llm_prices[body["model"]]
    # OpenAI's prompt_tokens already include the cached ones.
    assert body["usage"]["input_tokens"] == 1000
    assert body["usage"]["cache_read_tokens"] == 600
    assert body["cost"] == pytest.approx(
        per_million(400, price.input)
        + per_million(600, price.cache_read)
        + per_million(50, price.output)
    )
{% endif %}


async def test_an_identical_deterministic_request_is_answered_from_the_cache(
    client: AsyncClient, primary: StubProvider
) -> None:
    request = {"prompt": "What is 2 + 2?", "temperature": 0}

    first = (await client.post(COMPLETE, json=request)).json()
    second = (await client.post(COMPLETE, json=request)).json()

    assert len(primary.received) == 1
    assert second["text"] == first["text"]
    assert first["cached"] is False
    assert first["cost"] > 0
    assert second["cached"] is True
    assert second["cost"] == 0
    assert second["usage"]["total_tokens"] == 0
    assert second["request_id"] != first["request_id"]


{% if cookiecutter.redis == "yes" %}
@pytest.fixture
async def redis_cache(settings: Settings) -> AsyncIterator[Settings]:
    """Settings caching in the real Redis, under keys of this test's own (deleted after it)."""
    shared = settings.model_copy(
        update={
            "llm_cache_url": redis_settings()["redis_url"],
            "llm_cache_prefix": f"test:{uuid4().hex}:llm:",
        }
    )
    yield shared
    async with Redis.from_url(shared.llm_cache_url) as redis:
        async for key in redis.scan_iter(match=f"{shared.llm_cache_prefix}*"):
            await redis.delete(key)


async def test_a_cache_hit_is_served_from_redis(
    redis_cache: Settings, serve: Serve, primary: StubProvider
) -> None:
    request = {"prompt": "What is 2 + 2?", "temperature": 0}

    # Two apps, as two workers: the second can only have the answer from Redis.
    async with serve(create_app(redis_cache)) as client:
        first = (await client.post(COMPLETE, json=request)).json()
    async with serve(create_app(redis_cache)) as client:
        second = (await client.post(COMPLETE, json=request)).json()

    assert len(primary.received) == 1
    assert second["cached"] is True
    assert second["text"] == first["text"]
    async with Redis.from_url(redis_cache.llm_cache_url) as redis:
        keys = [key async for key in redis.scan_iter(match=f"{redis_cache.llm_cache_prefix}*")]
    assert len(keys) == 1


def test_answers_are_cached_in_the_shared_redis_unless_told_otherwise() -> None:
    shared = Settings(_env_file=None, redis_url="redis://cache:6379/2")
    in_process = Settings(_env_file=None, redis_url="redis://cache:6379/2", llm_cache_url="mem://")

    assert shared.llm_cache_url == "redis://cache:6379/2"
    assert in_process.llm_cache_url == "mem://"


{% endif %}
async def test_requests_with_sampling_are_not_cached(
    client: AsyncClient, primary: StubProvider
) -> None:
    request = {"prompt": "Tell me a story", "temperature": 1}

    await client.post(COMPLETE, json=request)
    second = (await client.post(COMPLETE, json=request)).json()

    assert len(primary.received) == 2
    assert second["cached"] is False


async def test_a_configured_model_is_used_and_an_unknown_one_refused(
    client: AsyncClient, primary: StubProvider, providers: list[ProviderName]
) -> None:
    model = SECOND_MODEL[providers[0]]
    chosen = await client.post(COMPLETE, json={"prompt": "Hi", "model": model})
    unknown = await client.post(COMPLETE, json={"prompt": "Hi", "model": "gpt-0"})

    assert chosen.json()["model"] == model
    assert primary.received[0].body["model"] == model
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "bad_request"
    assert "gpt-0" in unknown.json()["detail"]
    assert len(primary.received) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"prompt": "Hi", "messages": [{"role": "user", "content": "Hi"}]},
        {"messages": [{"role": "assistant", "content": "Hi"}]},
        {"prompt": "Hi", "max_tokens": 0},
        {"prompt": "Hi", "temperature": 3},
    ],
)
async def test_an_invalid_request_is_a_422_problem(
    client: AsyncClient, primary: StubProvider, payload: dict[str, object]
) -> None:
    response = await client.post(COMPLETE, json=payload)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert primary.received == []


@pytest.mark.parametrize("providers", [["fake"]])
async def test_the_fake_provider_answers_the_same_way_every_time(client: AsyncClient) -> None:
    request = {"prompt": "ping pong", "temperature": 0.7}

    first = (await client.post(COMPLETE, json=request)).json()
    second = (await client.post(COMPLETE, json=request)).json()

    assert first["text"] == second["text"] == "You said: ping pong"
    assert first["provider"] == "fake"
    assert first["usage"] == second["usage"]
    assert first["cost"] == 0
