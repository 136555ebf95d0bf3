"""The LLM names and prices that the settings are made of, below every layer that reads them."""

from typing import Literal

from pydantic import BaseModel, Field

{% if cookiecutter.llm == "anthropic" %}
ProviderName = Literal["anthropic", "fake"]
{% elif cookiecutter.llm == "openai" %}
ProviderName = Literal["openai", "fake"]
{% else %}
ProviderName = Literal["anthropic", "openai", "fake"]
{% endif %}
"""Who answers: a real provider, or ``fake`` for development without keys."""
{% if cookiecutter.rag == "yes" %}
{% if cookiecutter.llm == "anthropic" %}
EmbeddingProviderName = Literal["voyage", "fake"]
{% elif cookiecutter.llm == "openai" %}
EmbeddingProviderName = Literal["openai", "fake"]
{% else %}
EmbeddingProviderName = Literal["openai", "voyage", "fake"]
{% endif %}
"""Who embeds text: OpenAI (or a server with its API), Voyage AI, or ``fake`` (no key)."""
{% endif %}


class ModelPrice(BaseModel):
    """US dollars per million tokens of one model."""

    input: float = Field(ge=0, description="Uncached input tokens.")
    output: float = Field(ge=0)
    cache_read: float = Field(default=0, ge=0, description="Input tokens read from the cache.")
    cache_write: float = Field(default=0, ge=0, description="Input tokens written to the cache.")


class ModelCapabilities(BaseModel):
    """What one model accepts: a request that asks a model for anything else gets a 422
    naming the parameter, before any provider is called.
    """

    context_window: int = Field(
        default=128_000, ge=1_024, description="Tokens of prompt and answer together."
    )
    temperature: bool = Field(
        default=True, description="Takes `temperature` (recent reasoning models refuse it)."
    )
    thinking: bool = Field(
        default=False,
        description="Thinks before answering, at an effort the request may set "
        "(Anthropic's adaptive thinking, OpenAI's reasoning effort).",
    )
    tools: bool = Field(default=True, description="Calls tools.")
    structured_output: bool = Field(
        default=True, description="Answers in a JSON Schema given with the request."
    )
