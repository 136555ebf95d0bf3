{% set anthropic = cookiecutter.llm in ["anthropic", "anthropic_and_openai"] %}
{% set openai = cookiecutter.llm in ["openai", "anthropic_and_openai"] %}
"""Embedding providers through their official SDKs: one request per batch of texts.

{% if openai %}
``OpenAIEmbedder`` speaks OpenAI's embeddings API, which Ollama, vLLM and TEI speak
too (``EMBEDDING_BASE_URL``).
{% endif %}
{% if anthropic %}
``VoyageEmbedder`` asks Voyage AI, which tells a query from a document
(``input_type``) and embeds each accordingly.
{% endif %}
``FakeEmbedder`` needs no key: it hashes words and their trigrams, so that texts
sharing words are near (development only). Retries, the circuit breaker, the
budgets and the usage ledger are the LLM service's (``LLMService.embed``).
"""

import hashlib
import math
import re
{% if openai %}
import ssl
{% endif %}
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

{% if openai %}
import openai
{% endif %}
{% if anthropic %}
import voyageai.error
from voyageai.client_async import AsyncClient as VoyageClient
{% endif %}

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.llm_types import EmbeddingProviderName
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    ProviderError,
    TransientProviderError,
{% if openai %}
    status_error,
{% endif %}
)

Purpose = Literal["document", "query"]
WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Embedded:
    """The embeddings of a batch, in its order, and the tokens the provider counted."""

    vectors: list[list[float]]
    tokens: int


class Embedder(Protocol):
    @property
    def name(self) -> EmbeddingProviderName: ...

    @property
    def model(self) -> str: ...

    async def embed(self, texts: Sequence[str], purpose: Purpose) -> Embedded:
        """Raises ``ProviderError`` (``TransientProviderError`` when worth another try)."""
        ...

    async def aclose(self) -> None: ...


def _checked(vectors: list[list[float]], count: int, dimensions: int) -> list[list[float]]:
    if len(vectors) != count or any(len(vector) != dimensions for vector in vectors):
        msg = f"embeddings of the wrong shape: expected {count} of length {dimensions}"
        raise ProviderError(msg)
    return vectors


def hashed_embedding(text: str, dimensions: int) -> list[float]:
    """Words and their character trigrams hashed into ``dimensions`` signed buckets,
    normalised to length 1: texts that share words or parts of words are near."""
    vector = [0.0] * dimensions
    for word in WORD.findall(text.lower()):
        padded = f"^{word}$"
        features = [word] + [padded[i : i + 3] for i in range(len(padded) - 2)]
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % dimensions
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / norm for value in vector]


class FakeEmbedder:
    name: EmbeddingProviderName = "fake"
    model = "fake"

    def __init__(self, dimensions: int) -> None:
        self._dimensions = dimensions

    async def embed(self, texts: Sequence[str], purpose: Purpose) -> Embedded:
        vectors = [hashed_embedding(text, self._dimensions) for text in texts]
        return Embedded(vectors, sum(len(WORD.findall(text)) for text in texts))

    async def aclose(self) -> None:
        return None


class UnconfiguredEmbedder:
    """Stands in for a provider without an API key: fails every batch."""

    def __init__(self, name: EmbeddingProviderName, model: str, key_setting: str) -> None:
        self.name = name
        self.model = model
        self._problem = f"{key_setting} is not set"

    async def embed(self, texts: Sequence[str], purpose: Purpose) -> Embedded:
        raise ProviderError(self._problem)

    async def aclose(self) -> None:
        return None
{% if openai %}


class OpenAIEmbedder:
    name: EmbeddingProviderName = "openai"

    def __init__(self, settings: Settings, api_key: str, tls: ssl.SSLContext) -> None:
        self.model = settings.embedding_model
        self._dimensions = settings.embedding_dimensions
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=settings.embedding_base_url or settings.openai_base_url,
            timeout=openai.Timeout(settings.llm_read_timeout, connect=settings.llm_connect_timeout),
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(verify=tls),
        )

    async def embed(self, texts: Sequence[str], purpose: Purpose) -> Embedded:
        try:
            response = await self._client.embeddings.create(
                input=list(texts),
                model=self.model,
                dimensions=self._dimensions,
                encoding_format="float",
            )
        except openai.APIStatusError as exc:
            raise status_error("openai", exc.status_code, exc.response.headers, None) from exc
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            msg = "openai embeddings are unreachable"
            raise TransientProviderError(msg) from exc
        except (openai.APIError, ValueError) as exc:
            msg = "openai sent malformed embeddings"
            raise ProviderError(msg) from exc
        ordered = sorted(response.data, key=lambda item: item.index)
        vectors = _checked([item.embedding for item in ordered], len(texts), self._dimensions)
        return Embedded(vectors, response.usage.prompt_tokens)

    async def aclose(self) -> None:
        await self._client.close()
{% endif %}
{% if anthropic %}


class VoyageEmbedder:
    name: EmbeddingProviderName = "voyage"

    def __init__(self, settings: Settings, api_key: str) -> None:
        self.model = settings.embedding_model
        self._dimensions = settings.embedding_dimensions
        self._client = VoyageClient(
            api_key=api_key,
            max_retries=0,
            timeout=settings.llm_read_timeout,
            base_url=settings.embedding_base_url,
        )

    async def embed(self, texts: Sequence[str], purpose: Purpose) -> Embedded:
        try:
            response = await self._client.embed(
                list(texts),
                model=self.model,
                input_type=purpose,
                output_dimension=self._dimensions,
            )
        except (
            voyageai.error.RateLimitError,
            voyageai.error.ServiceUnavailableError,
            voyageai.error.ServerError,
            voyageai.error.Timeout,
            voyageai.error.APIConnectionError,
            voyageai.error.TryAgain,
        ) as exc:
            msg = f"voyage failed: {type(exc).__name__}"
            raise TransientProviderError(msg) from exc
        except voyageai.error.VoyageError as exc:
            msg = f"voyage refused the request: {type(exc).__name__}"
            raise ProviderError(msg) from exc
        vectors = [[float(value) for value in vector] for vector in response.embeddings]
        return Embedded(_checked(vectors, len(texts), self._dimensions), response.total_tokens)

    async def aclose(self) -> None:
        return None
{% endif %}


{% if openai %}
def open_embedder(settings: Settings, tls: ssl.SSLContext) -> Embedder:
{% else %}
def open_embedder(settings: Settings) -> Embedder:
{% endif %}
    """The embedder of ``EMBEDDING_PROVIDER``; close it with ``aclose``."""
    key = settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else ""
    model = settings.embedding_model
{% if openai %}
    if settings.embedding_provider == "openai":
        key = key or (settings.openai_api_key.get_secret_value() if settings.openai_api_key else "")
        if not key:
            return UnconfiguredEmbedder("openai", model, "EMBEDDING_API_KEY (or OPENAI_API_KEY)")
        return OpenAIEmbedder(settings, key, tls)
{% endif %}
{% if anthropic %}
    if settings.embedding_provider == "voyage":
        if not key:
            return UnconfiguredEmbedder("voyage", model, "EMBEDDING_API_KEY")
        return VoyageEmbedder(settings, key)
{% endif %}
    return FakeEmbedder(settings.embedding_dimensions)
