"""The LLM response cache: identical deterministic requests answered once.

Entries live in ``LLM_CACHE_URL`` (memory, or Redis to share them between
workers) for ``LLM_CACHE_TTL`` seconds. While the cache's backend fails, the cache
is skipped, and tried again after a while: an answer costs more, never fails.
"""

import hashlib
import json

import structlog
from cashews import Cache
from cashews.exceptions import CacheBackendInteractionError
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.outage import Outage
from {{ cookiecutter.package_name }}.models.llm import LLMRequest, LLMResponse

logger = structlog.get_logger(__name__)


class ResponseCache:
    def __init__(self, settings: Settings, cache: Cache) -> None:
        self._settings = settings
        self._cache = cache
        self._outage = Outage("llm_cache")

{% if cookiecutter.auth != "none" %}
    def key(self, request: LLMRequest, model: str, caller: str) -> str | None:
        """Only deterministic answers are worth reusing: temperature 0, unless configured.

        Each caller has answers of their own, unless ``LLM_CACHE_SHARED``: an answer
        served from someone else's call tells that they asked the same.
        """
{% else %}
    def key(self, request: LLMRequest, model: str) -> str | None:
        """Only deterministic answers are worth reusing: temperature 0, unless configured."""
{% endif %}
        if not self._settings.llm_cache_ttl:
            return None
        if request.temperature != 0 and not self._settings.llm_cache_any_temperature:
            return None
        canonical = json.dumps(
            {
{% if cookiecutter.auth != "none" %}
                "caller": None if self._settings.llm_cache_shared else caller,
{% endif %}
                "model": model,
                "system": request.system,
                "messages": [message.model_dump() for message in request.conversation],
                "max_tokens": request.max_tokens,
                "temperature": request.temperature,
                "thinking": request.thinking,
                "effort": request.effort,
                "response_format": request.response_format.model_dump()
                if request.response_format
                else None,
            },
            sort_keys=True,
        )
        return self._settings.llm_cache_prefix + hashlib.sha256(canonical.encode()).hexdigest()

    async def get(self, key: str) -> LLMResponse | None:
        """The cached answer, if any; none while the cache is down (tried again after a while)."""
        if self._outage.ongoing:
            return None
        try:
            raw = await self._cache.get(key)
        except CacheBackendInteractionError as exc:
            self._outage.failed(exc.__cause__ or exc)
            return None
        self._outage.answered()
        try:
            return None if raw is None else LLMResponse.model_validate_json(raw)
        except ValidationError as exc:
            logger.warning("llm_cache_entry_invalid", error=repr(exc))
            return None

    async def put(self, key: str, response: LLMResponse) -> None:
        if self._outage.ongoing:
            return
        try:
            ttl = self._settings.llm_cache_ttl
            await self._cache.set(key, response.model_dump_json(), expire=ttl)
        except CacheBackendInteractionError as exc:
            self._outage.failed(exc.__cause__ or exc)
