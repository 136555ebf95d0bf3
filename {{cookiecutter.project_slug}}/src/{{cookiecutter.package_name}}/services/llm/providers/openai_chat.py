"""OpenAI's Chat Completions API through the official async SDK (``OPENAI_API=chat_completions``).

The lingua franca of OpenAI-compatible servers (vLLM, Ollama, a LiteLLM proxy, TGI):
point ``OPENAI_BASE_URL`` at one. ``prompt_tokens`` already include the cached
ones, which is what ``TokenUsage.input_tokens`` means. A stream reports its usage
only when asked (``include_usage``), in a last chunk without choices, and each
tool call in pieces, by index.
"""

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import TypedDict

import openai
from openai.types import CompletionUsage
from openai.types.chat import (
    ChatCompletionAssistantMessageParam,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionToolChoiceOptionParam,
    ChatCompletionToolMessageParam,
    ChatCompletionUserMessageParam,
)
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall
from openai.types.chat.completion_create_params import ResponseFormat
from openai.types.shared import ReasoningEffort
from openai.types.shared_params import ResponseFormatJSONSchema
from openai.types.shared_params.response_format_json_schema import JSONSchema

from {{ cookiecutter.package_name }}.models.llm import TokenUsage
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    Completion,
    FinishReason,
    ProviderCall,
    ProviderError,
    StreamChunk,
    ToolStep,
    ToolUse,
    cleanup_scope,
)
from {{ cookiecutter.package_name }}.services.llm.providers.openai import (
    OpenAIBase,
    reasoning_effort,
)

FINISH_REASONS: Mapping[str | None, FinishReason] = {
    "stop": "stop",
    "length": "max_tokens",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "refusal",
}


class Request(TypedDict):
    model: str
    messages: list[ChatCompletionMessageParam]
    max_completion_tokens: int
    temperature: float | openai.Omit
    reasoning_effort: ReasoningEffort | openai.Omit
    tools: list[ChatCompletionFunctionToolParam] | openai.Omit
    tool_choice: ChatCompletionToolChoiceOptionParam | openai.Omit
    response_format: ResponseFormat | openai.Omit


@dataclass
class PartialCall:
    """A tool call as a stream has sent it so far: it comes in pieces."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def add(self, piece: ChoiceDeltaToolCall) -> None:
        self.id = piece.id or self.id
        if piece.function:
            self.name = piece.function.name or self.name
            if piece.function.arguments:
                self.arguments.append(piece.function.arguments)

    def use(self) -> ToolUse:
        return ToolUse(id=self.id, name=self.name, arguments="".join(self.arguments))


def _usage(usage: CompletionUsage | None) -> TokenUsage:
    if usage is None:
        return TokenUsage()
    cached = usage.prompt_tokens_details
    output = usage.completion_tokens_details
    return TokenUsage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=(cached.cached_tokens or 0) if cached else 0,
        cache_write_tokens=(cached.cache_write_tokens or 0) if cached else 0,
        reasoning_tokens=(output.reasoning_tokens or 0) if output else 0,
    )


def _tool_step(step: ToolStep) -> list[ChatCompletionMessageParam]:
    calls = [
        ChatCompletionMessageFunctionToolCallParam(
            id=use.id, type="function", function={"name": use.name, "arguments": use.arguments}
        )
        for use in step.calls
    ]
    assistant = ChatCompletionAssistantMessageParam(role="assistant", content=step.text or None)
    if calls:  # OpenAI refuses an empty list
        assistant["tool_calls"] = calls
    return [
        assistant,
        *(
            ChatCompletionToolMessageParam(
                role="tool", tool_call_id=outcome.id, content=outcome.content
            )
            for outcome in step.outcomes
        ),
    ]


def _messages(call: ProviderCall) -> list[ChatCompletionMessageParam]:
    messages: list[ChatCompletionMessageParam] = []
    if call.system is not None:
        messages.append(ChatCompletionSystemMessageParam(role="system", content=call.system))
    for turn in call.messages:
        if isinstance(turn, ToolStep):
            messages.extend(_tool_step(turn))
        elif turn.role == "user":
            messages.append(ChatCompletionUserMessageParam(role="user", content=turn.content))
        else:
            messages.append(
                ChatCompletionAssistantMessageParam(role="assistant", content=turn.content)
            )
    return messages


def _response_format(call: ProviderCall) -> ResponseFormat | openai.Omit:
    if call.output is None:
        return openai.omit
    schema = JSONSchema(name=call.output.name, schema=dict(call.output.schema), strict=False)
    return ResponseFormatJSONSchema(type="json_schema", json_schema=schema)


def _finish_reason(reason: str | None, *, refused: bool) -> FinishReason:
    return "refusal" if refused else FINISH_REASONS.get(reason, "other")


class OpenAIChatProvider(OpenAIBase):
    def _request(self, call: ProviderCall) -> Request:
        return Request(
            model=call.model,
            messages=_messages(call),
            max_completion_tokens=call.max_tokens,
            temperature=self._temperature(call),
            reasoning_effort=reasoning_effort(call) if call.thinking else openai.omit,
            tools=[
                ChatCompletionFunctionToolParam(
                    type="function",
                    function={
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": dict(tool.parameters),
                        "strict": False,
                    },
                )
                for tool in call.tools
            ]
            or openai.omit,
            tool_choice=call.tool_choice if call.tools else openai.omit,
            response_format=_response_format(call),
        )

    async def complete(self, call: ProviderCall) -> Completion:
        with self._errors("response"):
            completion = await self._client.chat.completions.create(**self._request(call))
        if not completion.choices:
            return Completion(text="", usage=_usage(completion.usage), finish_reason="other")
        choice = completion.choices[0]
        message = choice.message
        calls = tuple(
            ToolUse(id=call.id, name=call.function.name, arguments=call.function.arguments)
            for call in message.tool_calls or ()
            if call.type == "function"
        )
        return Completion(
            text=message.content or message.refusal or "",
            usage=_usage(completion.usage),
            finish_reason=_finish_reason(choice.finish_reason, refused=bool(message.refusal)),
            tool_calls=calls,
        )

    async def stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]:
        with self._errors("response"):
            chunks = await self._client.chat.completions.create(
                **self._request(call), stream=True, stream_options={"include_usage": True}
            )

        usage = TokenUsage()
        parts: list[str] = []
        refusal: list[str] = []
        calls: dict[int, PartialCall] = {}
        finish_reason: str | None = None
        try:
            with self._errors("stream"):
                async for chunk in chunks:
                    if chunk.usage is not None:
                        usage = _usage(chunk.usage)
                        yield usage
                    for choice in chunk.choices:
                        delta = choice.delta
                        if delta.content:
                            parts.append(delta.content)
                            yield delta.content
                        if delta.refusal:
                            refusal.append(delta.refusal)
                        for piece in delta.tool_calls or ():
                            calls.setdefault(piece.index, PartialCall()).add(piece)
                        finish_reason = choice.finish_reason or finish_reason
        finally:
            with cleanup_scope():
                await chunks.close()
        if finish_reason is None:
            msg = "openai stream ended without a finish reason"
            raise ProviderError(msg)
        yield Completion(
            text="".join(parts) or "".join(refusal),
            usage=usage,
            finish_reason=_finish_reason(finish_reason, refused=bool(refusal)),
            tool_calls=tuple(calls[index].use() for index in sorted(calls)),
        )

    async def count_tokens(self, call: ProviderCall) -> int | None:
        """Chat Completions cannot count tokens; the service estimates them."""
        return None
