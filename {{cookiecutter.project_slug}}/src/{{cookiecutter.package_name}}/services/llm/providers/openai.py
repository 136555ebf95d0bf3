"""OpenAI's Responses API through the official async SDK.

The Responses API is the one OpenAI recommends: reasoning models keep their
reasoning between tool calls, and usage reports cached and reasoning tokens.
Nothing is stored at OpenAI (``store=False``): each call sends the whole
conversation, encrypted reasoning included. ``OPENAI_API=chat_completions``
selects ``OpenAIChatProvider`` instead, for OpenAI-compatible servers.
``input_tokens`` already include the cached ones, which is what
``TokenUsage.input_tokens`` means.
"""

import ssl
from collections.abc import AsyncGenerator, Iterator, Mapping
from contextlib import contextmanager
from typing import TypedDict, cast

import openai
from openai.types.responses import (
    EasyInputMessageParam,
    FunctionToolParam,
    Response,
    ResponseFunctionToolCallParam,
    ResponseIncludable,
    ResponseInputItemParam,
    ResponseTextConfigParam,
    ResponseUsage,
    ToolChoiceOptions,
)
from openai.types.responses.response_input_item_param import FunctionCallOutput
from openai.types.shared import ReasoningEffort
from openai.types.shared_params import Reasoning
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

# Error codes of an error that arrives inside a stream already answered 200.
TRANSIENT_STREAM_ERRORS = frozenset({"server_error", "rate_limit_exceeded"})
# Why a response stopped short, as a finish reason.
INCOMPLETE_REASONS: Mapping[str | None, FinishReason] = {
    "max_output_tokens": "max_tokens",
    "content_filter": "refusal",
}


def stream_failure(code: str | None) -> ProviderError:
    """The error for a stream that failed after its response had started."""
    if code in TRANSIENT_STREAM_ERRORS:
        return TransientProviderError(f"openai stream failed: {code}")
    return ProviderError(f"openai stream failed: {code or 'unknown error'}")


def reasoning_effort(call: ProviderCall) -> ReasoningEffort:
    return call.effort or "medium"


class OpenAIBase:
    """The SDK client and its error mapping, for both of OpenAI's APIs."""

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
        return stream_failure(exc.type)

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Raise the provider errors for the SDK's; ``what`` is the answer that came malformed."""
        try:
            yield
        except openai.APIError as exc:
            raise self._error(exc) from exc
        except ValueError as exc:
            raise ProviderError(f"openai sent a malformed {what}") from exc

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


class Prompt(TypedDict):
    """What both creating a response and counting its input tokens are sent."""

    model: str
    instructions: str | openai.Omit
    input: list[ResponseInputItemParam]
    reasoning: Reasoning | openai.Omit
    text: ResponseTextConfigParam | openai.Omit
    tools: list[FunctionToolParam] | openai.Omit
    tool_choice: ToolChoiceOptions | openai.Omit


def _tool_step(step: ToolStep) -> list[ResponseInputItemParam]:
    items: list[ResponseInputItemParam] = []
    if step.provider == "openai" and step.native:
        # The items as OpenAI returned them, reasoning included, less the IDs: with
        # nothing stored, OpenAI refuses an ID it would have to look up. Reasoning it
        # did not encrypt (not asked to think) cannot go back.
        items.extend(
            cast("ResponseInputItemParam", {key: item[key] for key in item if key != "id"})
            for item in step.native
            if item.get("type") != "reasoning" or item.get("encrypted_content")
        )
    else:
        if step.text:
            items.append(EasyInputMessageParam(role="assistant", content=step.text))
        items.extend(
            ResponseFunctionToolCallParam(
                type="function_call", call_id=use.id, name=use.name, arguments=use.arguments
            )
            for use in step.calls
        )
    items.extend(
        FunctionCallOutput(type="function_call_output", call_id=outcome.id, output=outcome.content)
        for outcome in step.outcomes
    )
    return items


def _input(call: ProviderCall) -> list[ResponseInputItemParam]:
    items: list[ResponseInputItemParam] = []
    for turn in call.messages:
        if isinstance(turn, Message):
            items.append(EasyInputMessageParam(role=turn.role, content=turn.content))
        else:
            items.extend(_tool_step(turn))
    return items


def _prompt(call: ProviderCall) -> Prompt:
    return Prompt(
        model=call.model,
        instructions=openai.omit if call.system is None else call.system,
        input=_input(call),
        reasoning={"effort": reasoning_effort(call)} if call.thinking else openai.omit,
        text=(
            {
                "format": {
                    "type": "json_schema",
                    "name": call.output.name,
                    "schema": dict(call.output.schema),
                    "strict": False,
                }
            }
            if call.output
            else openai.omit
        ),
        tools=[
            FunctionToolParam(
                type="function",
                name=tool.name,
                description=tool.description,
                parameters=dict(tool.parameters),
                strict=False,
            )
            for tool in call.tools
        ]
        or openai.omit,
        tool_choice=call.tool_choice if call.tools else openai.omit,
    )


def _usage(usage: ResponseUsage | None) -> TokenUsage:
    if usage is None:
        return TokenUsage()
    return TokenUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.input_tokens_details.cached_tokens,
        cache_write_tokens=usage.input_tokens_details.cache_write_tokens,
        reasoning_tokens=usage.output_tokens_details.reasoning_tokens,
    )


def _completion(response: Response) -> Completion:
    calls = tuple(
        ToolUse(id=item.call_id, name=item.name, arguments=item.arguments)
        for item in response.output
        if item.type == "function_call"
    )
    refusals = [
        content.refusal
        for item in response.output
        if item.type == "message"
        for content in item.content
        if content.type == "refusal"
    ]
    finish_reason: FinishReason = "stop"
    if response.status == "incomplete":
        reason = response.incomplete_details.reason if response.incomplete_details else None
        finish_reason = INCOMPLETE_REASONS.get(reason, "other")
    elif refusals:
        finish_reason = "refusal"
    elif calls:
        finish_reason = "tool_calls"
    return Completion(
        text=response.output_text or "".join(refusals),
        usage=_usage(response.usage),
        finish_reason=finish_reason,
        tool_calls=calls,
        native=tuple(item.model_dump(mode="json", exclude_none=True) for item in response.output),
    )


class Request(Prompt):
    max_output_tokens: int
    temperature: float | openai.Omit
    store: bool
    include: list[ResponseIncludable] | openai.Omit


class OpenAIProvider(OpenAIBase):
    def _request(self, call: ProviderCall) -> Request:
        return Request(
            **_prompt(call),
            max_output_tokens=call.max_tokens,
            temperature=self._temperature(call),
            store=False,
            # Nothing is stored: reasoning comes back encrypted, for the next tool step.
            include=["reasoning.encrypted_content"] if call.thinking else openai.omit,
        )

    async def complete(self, call: ProviderCall) -> Completion:
        with self._errors("response"):
            response = await self._client.responses.create(**self._request(call))
        return _completion(response)

    async def stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]:
        with self._errors("response"):
            events = await self._client.responses.create(**self._request(call), stream=True)

        completion: Completion | None = None
        try:
            with self._errors("stream"):
                async for event in events:
                    if event.type == "response.output_text.delta":
                        yield event.delta
                    elif event.type == "response.completed" or event.type == "response.incomplete":
                        completion = _completion(event.response)
                    elif event.type == "response.failed":
                        error = event.response.error
                        raise stream_failure(error.code if error else None)
                    elif event.type == "error":
                        raise stream_failure(event.code)
        finally:
            with cleanup_scope():
                await events.close()
        if completion is None:
            msg = "openai stream ended before the response was complete"
            raise ProviderError(msg)
        yield completion.usage
        yield completion

    async def count_tokens(self, call: ProviderCall) -> int | None:
        """OpenAI's count of the prompt's tokens; None when counting fails (never fatal)."""
        try:
            counted = await self._client.responses.input_tokens.count(**_prompt(call))
        except (openai.APIError, ValueError):
            return None
        return counted.input_tokens
