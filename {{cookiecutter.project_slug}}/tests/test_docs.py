{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
"""The generated parts of ``docs/`` match the code, and the API documents itself fully."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.core.config import Environment, Settings
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.scripts import DOCS, config_docs, generated_part
from {{ cookiecutter.package_name }}.scripts.config_docs import PRODUCTION_RULES, settings_table
from {{ cookiecutter.package_name }}.scripts.openapi import main as write_openapi

{% if jwt %}
STRONG_SECRET_KEY = "x" * 64
{% endif %}
# A value the service must refuse in production, for each setting the docs say so of.
UNSAFE_IN_PRODUCTION: dict[str, Any] = {
{% if jwt %}
    "secret_key": "too-short",
{% endif %}
    "debug": True,
    "cors_origins": ["*"],
}

PROBLEM_JSON = "application/problem+json"
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemDetail"}
# Error responses that are deliberately no problem: the readiness probe answers its checks.
NOT_PROBLEMS = {"GET /health/ready 503"}


def _openapi() -> dict[str, Any]:
    return create_app(Settings(_env_file=None)).openapi()


def _operations(schema: dict[str, Any]) -> set[str]:
    return {f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item}


def test_configuration_docs_list_the_current_settings() -> None:
    assert generated_part(DOCS / "configuration.md", "settings") == settings_table(), (
        f"docs/configuration.md is stale: run `uv run python -m {config_docs.__name__} --write`"
    )


@pytest.mark.parametrize("name", sorted(PRODUCTION_RULES))
def test_settings_documented_as_checked_in_production_are_checked(name: str) -> None:
{% if jwt %}
    values = {"secret_key": STRONG_SECRET_KEY, name: UNSAFE_IN_PRODUCTION[name]}
{% else %}
    values = {name: UNSAFE_IN_PRODUCTION[name]}
{% endif %}

    with pytest.raises(ValidationError, match=name.upper()):
        Settings(_env_file=None, environment=Environment.PRODUCTION, **values)


def test_api_docs_describe_exactly_the_operations_of_the_app() -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `([A-Z]+ \S+)`$", text, flags=re.MULTILINE))
    served = _operations(_openapi())

    assert not served - documented, f"docs/api.md lacks {sorted(served - documented)}"
    assert not documented - served, f"docs/api.md describes unknown {sorted(documented - served)}"


def test_api_docs_examples_are_valid_json() -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    examples = re.findall(r"^```json\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)

    assert examples
    for example in examples:
        json.loads(example)


def test_every_operation_has_a_summary_and_documents_its_errors_as_problems() -> None:
    for path, item in _openapi()["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), f"{where} has no summary"
            statuses = [int(status) for status in operation["responses"]]
            assert any(status < 400 for status in statuses), f"{where}: no success response"
            for status in statuses:
                if status >= 400 and f"{where} {status}" not in NOT_PROBLEMS:
                    content = operation["responses"][str(status)]["content"]
                    schema = content.get(PROBLEM_JSON, {}).get("schema")
                    assert schema == PROBLEM_SCHEMA, f"{where}: {status} is not a problem"


def test_openapi_script_writes_the_apps_document(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"

    assert write_openapi(["--write", str(target)]) == 0

    assert json.loads(target.read_text(encoding="utf-8")) == create_app().openapi()
