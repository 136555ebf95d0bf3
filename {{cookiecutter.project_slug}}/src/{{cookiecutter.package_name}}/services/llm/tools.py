{% set db = cookiecutter.database != "none" %}
{% set auth = cookiecutter.auth != "none" %}
{% set rag = cookiecutter.rag == "yes" %}
"""Tools the model may call: each an async function with a Pydantic argument model.

The argument model's JSON Schema is what the providers see, and the model's
arguments are validated against the same model before the tool runs. A
``Toolbox`` runs tools for one request's caller, so a tool reaches only what
that caller may reach. A tool that fails, takes too long or gets arguments it
cannot take hands the model an error result to read: never the client an error.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
{% if db %}
from contextlib import AbstractAsyncContextManager
{% endif %}
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import BaseModel, ValidationError

{% if auth %}
from {{ cookiecutter.package_name }}.core.authorization import Scope
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import InvalidRequestError
from {{ cookiecutter.package_name }}.core.problems import FieldError
from {{ cookiecutter.package_name }}.models.llm import ToolInfo
{% if rag %}
from {{ cookiecutter.package_name }}.models.rag import SearchHit, SearchRequest
{% endif %}
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    ToolOutcome,
    ToolSpec,
    ToolUse,
)
{% if db %}
from {{ cookiecutter.package_name }}.services.note_service import NoteService
{% endif %}

MAX_ARGUMENTS_CHARS = 16_384
MAX_RESULT_CHARS = 16_384

logger = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Whom a tool runs for, and the services it may use on their behalf."""

    caller: str
{% if auth %}
    scopes: frozenset[Scope]
{% endif %}
{% if db %}
    notes: Callable[[], AbstractAsyncContextManager[NoteService]]
    """The caller's notes, in a unit of work of their own."""
{% endif %}
{% if rag %}
    documents: Callable[[SearchRequest], Awaitable[list[SearchHit]]]
{% if auth %}
    """Hybrid search over the caller's own documents."""
{% else %}
    """Hybrid search over the documents."""
{% endif %}
{% endif %}


@dataclass(frozen=True, slots=True)
class Tool:
    """``run`` takes an instance of ``arguments`` and the context."""

    name: str
    description: str
    arguments: type[BaseModel]
    run: Callable[[Any, ToolContext], Awaitable[str]]
{% if auth %}
    scope: Scope | None = None
    """The scope a caller needs for the model to call this tool for them."""
{% endif %}

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.arguments.model_json_schema())

    def info(self) -> ToolInfo:
        spec = self.spec()
        return ToolInfo(
            name=spec.name, description=spec.description, parameters=dict(spec.parameters)
        )

    async def call(self, arguments: str, context: ToolContext) -> str:
        return await self.run(self.arguments.model_validate_json(arguments), context)


class ToolRegistry:
    """Every tool of the service, by name."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: Mapping[str, Tool] = {tool.name: tool for tool in tools}

    def info(self) -> list[ToolInfo]:
        return [tool.info() for tool in self._tools.values()]

    def pick(self, names: Sequence[str]) -> list[Tool]:
        """The tools a request names; a 422 naming ``tools`` for any the service lacks."""
        unknown = [name for name in names if name not in self._tools]
        if unknown:
            offered = ", ".join(self._tools) or "none"
            msg = f"Unknown tool {unknown[0]!r}; the service offers: {offered}."
            error = FieldError(loc=["body", "tools"], msg=msg, type="unknown_tool")
            raise InvalidRequestError(msg, errors=[error])
        return [self._tools[name] for name in dict.fromkeys(names)]

    def toolbox(self, context: ToolContext, *, timeout: float) -> "Toolbox":
        return Toolbox(self, context, timeout=timeout)


class Toolbox:
    """The registry's tools, run for one caller, each call within ``timeout`` seconds."""

    def __init__(self, registry: ToolRegistry, context: ToolContext, *, timeout: float) -> None:
        self.registry = registry
        self._context = context
        self._timeout = timeout

    async def run(self, use: ToolUse, offered: Sequence[Tool]) -> ToolOutcome:
        tool = next((tool for tool in offered if tool.name == use.name), None)
        if tool is None:
            return ToolOutcome(use.id, f"There is no tool named {use.name[:64]!r}.", is_error=True)
{% if auth %}
        if tool.scope is not None and tool.scope not in self._context.scopes:
            return ToolOutcome(use.id, f"The caller may not use {tool.name}.", is_error=True)
{% endif %}
        if len(use.arguments) > MAX_ARGUMENTS_CHARS:
            return ToolOutcome(use.id, "The arguments are too long.", is_error=True)
        try:
            async with asyncio.timeout(self._timeout):
                content = await tool.call(use.arguments or "{}", self._context)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, error['loc'])) or 'arguments'}: {error['msg']}"
                for error in exc.errors(include_url=False, include_input=False)
            )
            return ToolOutcome(use.id, f"Invalid arguments: {problems}", is_error=True)
        except TimeoutError:
            logger.warning("llm_tool_timeout", tool=tool.name, timeout_s=self._timeout)
            return ToolOutcome(use.id, f"{tool.name} took too long.", is_error=True)
        except Exception:
            logger.exception("llm_tool_failed", tool=tool.name)
            return ToolOutcome(use.id, f"{tool.name} failed.", is_error=True)
        return ToolOutcome(use.id, content[:MAX_RESULT_CHARS])
