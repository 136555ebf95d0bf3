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


class ModelPrice(BaseModel):
    """US dollars per million tokens of one model."""

    input: float = Field(ge=0, description="Uncached input tokens.")
    output: float = Field(ge=0)
    cache_read: float = Field(default=0, ge=0, description="Input tokens read from the cache.")
    cache_write: float = Field(default=0, ge=0, description="Input tokens written to the cache.")
