"""A provider that needs no key and no network: ``LLM_PROVIDERS=["fake"]``.

It echoes the last user message, one word per token, so the same request
always gets the same answer and the same usage.
"""

from collections.abc import AsyncGenerator

from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from {{ cookiecutter.package_name }}.models.llm import Message, TokenUsage
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    Completion,
    ProviderCall,
    StreamChunk,
)


def _count_words(*texts: str | None) -> int:
    return sum(len(text.split()) for text in texts if text)


def _texts(call: ProviderCall) -> list[str]:
    return [turn.content for turn in call.messages if isinstance(turn, Message)]


class FakeProvider:
    name: ProviderName = "fake"
    models = ("fake",)

    def _reply(self, call: ProviderCall) -> list[str]:
        words = ["You", "said:", *_texts(call)[-1].split()]
        return words[: call.max_tokens]

    def _completion(self, call: ProviderCall, words: list[str]) -> Completion:
        usage = TokenUsage(
            input_tokens=_count_words(call.system, *_texts(call)),
            output_tokens=len(words),
        )
        return Completion(text=" ".join(words), usage=usage)

    async def complete(self, call: ProviderCall) -> Completion:
        return self._completion(call, self._reply(call))

    async def stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]:
        words = self._reply(call)
        for index, word in enumerate(words):
            yield word if index == 0 else f" {word}"
        yield self._completion(call, words)

    async def count_tokens(self, call: ProviderCall) -> int | None:
        return _count_words(call.system, *_texts(call))

    async def check(self, *, reachability: bool) -> None:
        return None

    async def aclose(self) -> None:
        return None
