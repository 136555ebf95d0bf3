"""OpenAI Chat Completions through the official async SDK.

Also serves any OpenAI-compatible server: point ``OPENAI_BASE_URL`` at it.
OpenAI's ``prompt_tokens`` already include the cached ones, which is what
``TokenUsage.input_tokens`` means. A stream reports its usage only when asked
(``include_usage``), in a last chunk without choices.
"""

import ssl
from collections.abc import AsyncGenerator

import openai
from openai.types import CompletionUsage
from openai.types.chat import (
    ChatCompletionAssistantMessageParam,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
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

# Error types of an error that arrives inside a stream already answered 200.
TRANSIENT_STREAM_ERRORS = frozenset({"server_error", "rate_limit_exceeded"})


def _usage(usage: CompletionUsage | None) -> TokenUsage:
    if usage is None:
        return TokenUsage()
    details = usage.prompt_tokens_details
    return TokenUsage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=(details.cached_tokens or 0) if details else 0,
        cache_write_tokens=(details.cache_write_tokens or 0) if details else 0,
    )


def _messages(call: ProviderCall) -> list[ChatCompletionMessageParam]:
    messages: list[ChatCompletionMessageParam] = []
    if call.system is not None:
        messages.append(ChatCompletionSystemMessageParam(role="system", content=call.system))
    for message in call.messages:
        if not isinstance(message, Message):
            continue  # placeholder until tool steps are rendered
        if message.role == "user":
            messages.append(ChatCompletionUserMessageParam(role="user", content=message.content))
        else:
            messages.append(
                ChatCompletionAssistantMessageParam(role="assistant", content=message.content)
            )
    return messages


class OpenAIProvider:
    name: ProviderName = "openai"

    def __init__(self, settings: Settings, api_key: SecretStr, tls: ssl.SSLContext) -> None:
        self.models = tuple(settings.openai_models)
        self._client = openai.AsyncOpenAI(
            api_key=api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=openai.Timeout(settings.llm_read_timeout, connect=settings.llm_connect_timeout),
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(verify=tls),
        )

    def _temperature(self, call: ProviderCall) -> float | openai.Omit:
        return openai.omit if call.temperature is None else call.temperature

    def _error(self, exc: openai.APIError) -> ProviderError:
        if isinstance(exc, openai.APIStatusError):
            detail = exc.body.get("message") if isinstance(exc.body, dict) else None
            return status_error(
                self.name, exc.status_code, exc.response.headers, str(detail) if detail else None
            )
        if isinstance(exc, openai.APITimeoutError):
            return TransientProviderError("openai timed out")
        if isinstance(exc, openai.APIConnectionError):
            return TransientProviderError("openai is unreachable")
        if isinstance(exc, openai.APIResponseValidationError):
            return ProviderError("openai sent a malformed response")
        # An error inside a stream whose response had already started.
        if exc.type in TRANSIENT_STREAM_ERRORS:
            return TransientProviderError(f"openai stream failed: {exc.type}")
        return ProviderError(f"openai stream failed: {exc.type}")

    async def complete(self, call: ProviderCall) -> Completion:
        try:
            completion = await self._client.chat.completions.create(
                model=call.model,
                messages=_messages(call),
                max_completion_tokens=call.max_tokens,
                temperature=self._temperature(call),
            )
        except openai.APIError as exc:
            raise self._error(exc) from exc
        except ValueError as exc:
            raise ProviderError("openai sent a malformed response") from exc
        text = completion.choices[0].message.content if completion.choices else None
        return Completion(text=text or "", usage=_usage(completion.usage))

    async def stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]:
        try:
            chunks = await self._client.chat.completions.create(
                model=call.model,
                messages=_messages(call),
                max_completion_tokens=call.max_tokens,
                temperature=self._temperature(call),
                stream=True,
                stream_options={"include_usage": True},
            )
        except openai.APIError as exc:
            raise self._error(exc) from exc

        usage = TokenUsage()
        parts: list[str] = []
        finished = False
        try:
            async for chunk in chunks:
                if chunk.usage is not None:
                    usage = _usage(chunk.usage)
                    yield usage
                for choice in chunk.choices:
                    if choice.delta.content:
                        parts.append(choice.delta.content)
                        yield choice.delta.content
                    finished = finished or choice.finish_reason is not None
        except openai.APIError as exc:
            raise self._error(exc) from exc
        except ValueError as exc:
            raise ProviderError("openai sent a malformed stream") from exc
        finally:
            with cleanup_scope():
                await chunks.close()
        if not finished:
            msg = "openai stream ended without a finish reason"
            raise ProviderError(msg)
        yield Completion(text="".join(parts), usage=usage)

    async def count_tokens(self, call: ProviderCall) -> int | None:
        return None

    async def check(self, *, reachability: bool) -> None:
        if not reachability:
            return
        try:
            await self._client.models.list()
        except openai.APIError as exc:
            msg = f"openai is unreachable: {self._error(exc)}"
            raise CheckFailedError(msg) from exc

    async def aclose(self) -> None:
        await self._client.close()
