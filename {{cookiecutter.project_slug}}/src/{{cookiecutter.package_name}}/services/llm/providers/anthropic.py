"""Anthropic's Messages API through the official async SDK.

Anthropic reports ``input_tokens`` without the tokens read from or written to
its prompt cache; they are added back here so that ``TokenUsage.input_tokens``
means the same for every provider. ``temperature`` is no longer a parameter of
the SDK: it goes in the request body, and only when the caller set it.
"""

import ssl
from collections.abc import AsyncGenerator

import anthropic
import httpx2
from anthropic.types import (
    AssistantMessageParam,
    CacheControlEphemeralParam,
    MessageParam,
    RawContentBlockDeltaEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    TextBlock,
    TextBlockParam,
    TextDelta,
    UserMessageParam,
)
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.health import CheckFailedError
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from {{ cookiecutter.package_name }}.models.llm import Message, TokenUsage
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    Completion,
    ProviderCall,
    ProviderError,
    StreamChunk,
    TransientProviderError,
    cleanup_scope,
    status_error,
)

CACHE_POINT: CacheControlEphemeralParam = {"type": "ephemeral"}
# Error types of an ``event: error`` that arrives inside a stream already answered 200.
TRANSIENT_STREAM_ERRORS = frozenset({"api_error", "overloaded_error", "rate_limit_error"})


def _usage(*, uncached: int, output: int, cache_read: int, cache_write: int) -> TokenUsage:
    return TokenUsage(
        input_tokens=uncached + cache_read + cache_write,
        output_tokens=output,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


class AnthropicProvider:
    name: ProviderName = "anthropic"

    def __init__(self, settings: Settings, api_key: SecretStr, tls: ssl.SSLContext) -> None:
        self.models = tuple(settings.anthropic_models)
        self._prompt_caching = settings.anthropic_prompt_caching
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key.get_secret_value(),
            base_url=settings.anthropic_base_url,
            timeout=anthropic.Timeout(
                settings.llm_read_timeout, connect=settings.llm_connect_timeout
            ),
            max_retries=0,
            http_client=anthropic.DefaultAsyncHttpxClient(verify=tls),
        )

    def _messages(self, call: ProviderCall) -> list[MessageParam]:
        return [
            UserMessageParam(role="user", content=message.content)
            if message.role == "user"
            else AssistantMessageParam(role="assistant", content=message.content)
            for message in call.messages
            if isinstance(message, Message)
        ]

    def _system(self, call: ProviderCall) -> str | list[TextBlockParam] | anthropic.Omit:
        if call.system is None:
            return anthropic.omit
        if self._prompt_caching:
            return [{"type": "text", "text": call.system, "cache_control": CACHE_POINT}]
        return call.system

    def _cache_control(self) -> CacheControlEphemeralParam | anthropic.Omit:
        """With prompt caching on, also cache up to the last block of the conversation."""
        return CACHE_POINT if self._prompt_caching else anthropic.omit

    def _extra_body(self, call: ProviderCall) -> dict[str, object] | None:
        return None if call.temperature is None else {"temperature": call.temperature}

    def _error(self, exc: anthropic.APIError) -> ProviderError:
        if isinstance(exc, anthropic.APIStatusError):
            if exc.status_code < 400:
                # An ``event: error`` in a stream whose response had already started.
                if exc.type in TRANSIENT_STREAM_ERRORS:
                    return TransientProviderError(f"anthropic stream failed: {exc.type}")
                return ProviderError(f"anthropic stream failed: {exc.type}")
            return status_error(self.name, exc.status_code, exc.response.headers, exc.api_message)
        if isinstance(exc, anthropic.APITimeoutError):
            return TransientProviderError("anthropic timed out")
        if isinstance(exc, anthropic.APIConnectionError):
            return TransientProviderError("anthropic is unreachable")
        return ProviderError(f"anthropic failed: {type(exc).__name__}")

    async def complete(self, call: ProviderCall) -> Completion:
        try:
            message = await self._client.messages.create(
                model=call.model,
                max_tokens=call.max_tokens,
                messages=self._messages(call),
                system=self._system(call),
                cache_control=self._cache_control(),
                extra_body=self._extra_body(call),
            )
        except anthropic.APIError as exc:
            raise self._error(exc) from exc
        except ValueError as exc:
            raise ProviderError("anthropic sent a malformed response") from exc
        usage = message.usage
        return Completion(
            text="".join(block.text for block in message.content if isinstance(block, TextBlock)),
            usage=_usage(
                uncached=usage.input_tokens,
                output=usage.output_tokens,
                cache_read=usage.cache_read_input_tokens or 0,
                cache_write=usage.cache_creation_input_tokens or 0,
            ),
        )

    async def stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]:
        try:
            events = await self._client.messages.create(
                model=call.model,
                max_tokens=call.max_tokens,
                messages=self._messages(call),
                system=self._system(call),
                cache_control=self._cache_control(),
                extra_body=self._extra_body(call),
                stream=True,
            )
        except anthropic.APIError as exc:
            raise self._error(exc) from exc

        uncached = output = cache_read = cache_write = 0

        def so_far() -> TokenUsage:
            return _usage(
                uncached=uncached, output=output, cache_read=cache_read, cache_write=cache_write
            )

        parts: list[str] = []
        finished = False
        try:
            async for event in events:
                if isinstance(event, RawMessageStartEvent):
                    start = event.message.usage
                    uncached, output = start.input_tokens, start.output_tokens
                    cache_read = start.cache_read_input_tokens or 0
                    cache_write = start.cache_creation_input_tokens or 0
                    # Charged from here on, whatever happens to the rest of the stream.
                    yield so_far()
                elif isinstance(event, RawContentBlockDeltaEvent) and isinstance(
                    event.delta, TextDelta
                ):
                    parts.append(event.delta.text)
                    yield event.delta.text
                elif isinstance(event, RawMessageDeltaEvent):
                    # Cumulative counts; the input ones only when they changed.
                    delta = event.usage
                    output = delta.output_tokens
                    uncached = delta.input_tokens if delta.input_tokens is not None else uncached
                    cache_read = delta.cache_read_input_tokens or cache_read
                    cache_write = delta.cache_creation_input_tokens or cache_write
                    yield so_far()
                elif isinstance(event, RawMessageStopEvent):
                    finished = True
        except anthropic.APIError as exc:
            raise self._error(exc) from exc
        except httpx2.TimeoutException as exc:
            raise TransientProviderError("anthropic stream timed out") from exc
        except httpx2.TransportError as exc:
            raise TransientProviderError("anthropic stream broke off") from exc
        except ValueError as exc:
            raise ProviderError("anthropic sent a malformed stream") from exc
        finally:
            with cleanup_scope():
                await events.close()
        if not finished:
            msg = "anthropic stream ended before message_stop"
            raise ProviderError(msg)
        yield Completion(text="".join(parts), usage=so_far())

    async def count_tokens(self, call: ProviderCall) -> int | None:
        return None

    async def check(self, *, reachability: bool) -> None:
        if not reachability:
            return
        try:
            await self._client.models.list(limit=1)
        except anthropic.APIError as exc:
            msg = f"anthropic is unreachable: {self._error(exc)}"
            raise CheckFailedError(msg) from exc

    async def aclose(self) -> None:
        await self._client.close()
