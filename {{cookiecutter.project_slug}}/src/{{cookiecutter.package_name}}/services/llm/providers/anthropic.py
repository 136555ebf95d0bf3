"""Anthropic's Messages API through the official async SDK.

Anthropic reports ``input_tokens`` without the tokens read from or written to
its prompt cache; they are added back here so that ``TokenUsage.input_tokens``
means the same for every provider. ``temperature`` is no longer a parameter of
the SDK: it goes in the request body, and only when the caller set it. Thinking
is adaptive (the model decides how much, at the effort asked for); the thinking
blocks of a turn that called tools go back with its tool results, as the API
requires.
"""

import json
import ssl
from collections.abc import AsyncGenerator
from typing import Any

import anthropic
import httpx2
from anthropic.types import (
    AssistantMessageParam,
    CacheControlEphemeralParam,
    ContentBlock,
    MessageParam,
    OutputConfigParam,
    TextBlock,
    TextBlockParam,
    ThinkingConfigParam,
    ToolChoiceParam,
    ToolParam,
    ToolResultBlockParam,
    ToolUseBlock,
    Usage,
    UserMessageParam,
)
from anthropic.types.message_create_params import MessageCreateParamsBase
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.health import CheckFailedError
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from {{ cookiecutter.package_name }}.models.llm import Message, TokenUsage
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    Completion,
    FinishReason,
    ProviderCall,
    ProviderError,
    StreamChunk,
    ToolStep,
    ToolUse,
    TransientProviderError,
    cleanup_scope,
    status_error,
)

# Error types of an ``event: error`` that arrives inside a stream already answered 200.
TRANSIENT_STREAM_ERRORS = frozenset({"api_error", "overloaded_error", "rate_limit_error"})
FINISH_REASONS: dict[str | None, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "tool_use": "tool_calls",
    "refusal": "refusal",
}


def _usage(usage: Usage) -> TokenUsage:
    cache_read = usage.cache_read_input_tokens or 0
    cache_write = usage.cache_creation_input_tokens or 0
    details = usage.output_tokens_details
    return TokenUsage(
        input_tokens=usage.input_tokens + cache_read + cache_write,
        output_tokens=usage.output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=details.thinking_tokens if details else 0,
    )


def _tool_input(arguments: str) -> dict[str, Any]:
    """The arguments of a call as an object; a call the model garbled sends back ``{}``
    (its error result tells the model what went wrong)."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _step_messages(step: ToolStep) -> list[MessageParam]:
    """The assistant turn that called tools, then the user turn with their results."""
    content: list[Any]
    if step.provider == "anthropic" and step.native:
        content = [dict(block) for block in step.native]
    else:
        content = [{"type": "text", "text": step.text}] if step.text else []
        content += [
            {
                "type": "tool_use",
                "id": use.id,
                "name": use.name,
                "input": _tool_input(use.arguments),
            }
            for use in step.calls
        ]
    results: list[ToolResultBlockParam] = [
        {
            "type": "tool_result",
            "tool_use_id": outcome.id,
            "content": outcome.content,
            "is_error": outcome.is_error,
        }
        for outcome in step.outcomes
    ]
    return [{"role": "assistant", "content": content}, {"role": "user", "content": results}]


def _messages(call: ProviderCall) -> list[MessageParam]:
    messages: list[MessageParam] = []
    for turn in call.messages:
        if isinstance(turn, Message):
            messages.append(
                UserMessageParam(role="user", content=turn.content)
                if turn.role == "user"
                else AssistantMessageParam(role="assistant", content=turn.content)
            )
        else:
            messages.extend(_step_messages(turn))
    return messages


def _completion(message: anthropic.types.Message) -> Completion:
    blocks: list[ContentBlock] = message.content
    return Completion(
        text="".join(block.text for block in blocks if isinstance(block, TextBlock)),
        usage=_usage(message.usage),
        finish_reason=FINISH_REASONS.get(message.stop_reason, "other"),
        tool_calls=tuple(
            ToolUse(id=block.id, name=block.name, arguments=json.dumps(block.input))
            for block in blocks
            if isinstance(block, ToolUseBlock)
        ),
        native=tuple(block.to_dict() for block in blocks),
    )


class AnthropicProvider:
    name: ProviderName = "anthropic"

    def __init__(self, settings: Settings, api_key: SecretStr, tls: ssl.SSLContext) -> None:
        self.models = tuple(settings.anthropic_models)
        self._cache_point: CacheControlEphemeralParam | None = (
            {"type": "ephemeral", "ttl": settings.anthropic_cache_ttl}
            if settings.anthropic_prompt_caching
            else None
        )
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key.get_secret_value(),
            base_url=settings.anthropic_base_url,
            timeout=anthropic.Timeout(
                settings.llm_read_timeout, connect=settings.llm_connect_timeout
            ),
            max_retries=0,
            http_client=anthropic.DefaultAsyncHttpxClient(verify=tls),
        )

    def _system(self, call: ProviderCall) -> str | list[TextBlockParam] | None:
        if call.system is None or self._cache_point is None:
            return call.system
        return [{"type": "text", "text": call.system, "cache_control": self._cache_point}]

    def _params(self, call: ProviderCall) -> MessageCreateParamsBase:
        """The request body. With prompt caching on, the stable prefix is marked twice: the
        system prompt, and (the top-level ``cache_control``) everything up to the last
        block, so each turn of a conversation reads the one before it from the cache.
        """
        params: MessageCreateParamsBase = {
            "model": call.model,
            "max_tokens": call.max_tokens,
            "messages": _messages(call),
        }
        if (system := self._system(call)) is not None:
            params["system"] = system
        if self._cache_point is not None:
            params["cache_control"] = self._cache_point
        if call.thinking:
            thinking: ThinkingConfigParam = {"type": "adaptive"}
            params["thinking"] = thinking
        output: OutputConfigParam = {}
        if call.effort is not None:
            output["effort"] = call.effort
        if call.output is not None:
            output["format"] = {"type": "json_schema", "schema": dict(call.output.schema)}
        if output:
            params["output_config"] = output
        if call.tools:
            tools: list[ToolParam] = [
                {
                    "name": tool.name,
                    "description": tool.description,
                    "input_schema": dict(tool.parameters),
                }
                for tool in call.tools
            ]
            choice: ToolChoiceParam = (
                {"type": "auto"} if call.tool_choice == "auto" else {"type": "none"}
            )
            params["tools"], params["tool_choice"] = tools, choice
        return params

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
                **self._params(call), extra_body=self._extra_body(call)
            )
        except anthropic.APIError as exc:
            raise self._error(exc) from exc
        except ValueError as exc:
            raise ProviderError("anthropic sent a malformed response") from exc
        return _completion(message)

    async def stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]:
        """The SDK's stream helper puts the message together (tool calls, thinking and
        their signatures); the text and the usage are passed on as they arrive."""
        manager = self._client.messages.stream(
            **self._params(call), extra_body=self._extra_body(call)
        )
        try:
            events = await manager.__aenter__()
        except anthropic.APIError as exc:
            raise self._error(exc) from exc
        finished = False
        try:
            async for event in events:
                if event.type == "text":
                    yield event.text
                elif event.type in {"message_start", "message_delta"}:
                    # Charged from the start, whatever happens to the rest of the stream.
                    yield _usage(events.current_message_snapshot.usage)
                elif event.type == "message_stop":
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
                await manager.__aexit__(None, None, None)
        if not finished:
            msg = "anthropic stream ended before message_stop"
            raise ProviderError(msg)
        yield _completion(events.current_message_snapshot)

    async def count_tokens(self, call: ProviderCall) -> int | None:
        """Anthropic's free counting endpoint; None (estimate instead) when it fails."""
        params = self._params(call)
        try:
            counted = await self._client.messages.count_tokens(
                model=params["model"],
                messages=params["messages"],
                system=params.get("system", anthropic.omit),
                tools=params.get("tools", anthropic.omit),
                thinking=params.get("thinking", anthropic.omit),
            )
        except anthropic.APIError:
            return None
        return counted.input_tokens

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
