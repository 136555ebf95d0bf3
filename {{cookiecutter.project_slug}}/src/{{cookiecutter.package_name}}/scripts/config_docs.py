"""Print the table of settings, or write it into ``docs/configuration.md``.

    uv run python -m {{ cookiecutter.package_name }}.scripts.config_docs           # print it
    uv run python -m {{ cookiecutter.package_name }}.scripts.config_docs --write   # refresh the docs

It reads the ``Settings`` class of ``core/config.py``: run it after changing a setting.
"""

import enum
import json
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.scripts import DOCS, print_or_write

DOCUMENT = DOCS / "configuration.md"
MARKER = "settings"
# What ``Settings._refuse_unsafe_production`` demands when ENVIRONMENT=production.
PRODUCTION_RULES = {
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
    "secret_key": "required: random, at least 32 characters",
{% endif %}
    "debug": "must be `false`",
    "cors_origins": "explicit origins, no `*`",
}
TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Path: "path",
    SecretStr: "secret string",
}


def _type_name(annotation: object) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in args)
    if origin in (Union, types.UnionType):
        names = [_type_name(arg) for arg in args if arg is not type(None)]
        optional = " (optional)" if type(None) in args else ""
        return " or ".join(names) + optional
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type):
        return TYPE_NAMES.get(annotation, annotation.__name__)
    return str(annotation)


def _value(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "a placeholder"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, dict):
        return "entries for " + ", ".join(f"`{key}`" for key in value) if value else "none"
    if isinstance(value, bool | list):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _defaults(settings: type[Settings]) -> Settings:
    """The settings as they are with no environment, no ``.env`` and no arguments."""

    class Defaults(settings):  # type: ignore[valid-type, misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings,)

    return Defaults()


def settings_table(settings: type[Settings] = Settings) -> str:
    """One row per setting, in the order of the class, with the value it has when unset."""
    defaults = _defaults(settings)
    lines = [
        "| Variable | Type | Default | In production | Meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, field in settings.model_fields.items():
        cells = [
            f"`{name.upper()}`",
            _type_name(field.annotation),
            _value(getattr(defaults, name)),
            PRODUCTION_RULES.get(name, ""),
            field.description or "",
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    return print_or_write(
        argv, "Print or write the table of settings.", settings_table, DOCUMENT, MARKER
    )


if __name__ == "__main__":
    sys.exit(main())
