"""The pre-generation hook refuses invalid answers with a message that says how to fix them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from template_tools.answers import validate
from tests.conftest import TEMPLATE_ROOT, bake

COOKIECUTTER = str(Path(sys.executable).with_name("cookiecutter"))


def valid_answers(**overrides: str) -> dict[str, str]:
    answers = {
        "project_name": "Billing Service",
        "project_slug": "billing-service",
        "package_name": "billing_service",
        "author_email": "dev@example.com",
        "version": "0.1.0",
        "auth": "none",
        "database": "sqlite",
    }
    answers.update(overrides)
    return answers


def test_valid_answers_pass() -> None:
    assert validate(valid_answers()) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"package_name": "billing-service"}, "package_name 'billing-service' is not a valid"),
        ({"package_name": "1billing"}, "is not a valid Python package name"),
        ({"package_name": "Billing"}, "is not a valid Python package name"),
        ({"package_name": "class"}, "is a Python keyword"),
        ({"package_name": "match"}, "is a Python keyword"),
        ({"package_name": "json"}, "shadows the standard library"),
        ({"package_name": "asyncio"}, "shadows the standard library"),
        ({"package_name": "fastapi"}, "shadows a dependency"),
        ({"package_name": "app"}, "shadows a dependency"),
        ({"package_name": "tests"}, "shadows a dependency"),
        ({"package_name": "a" * 31}, "package_name is 31 characters long; the limit is 30"),
        ({"project_slug": "Billing"}, "project_slug 'Billing' is not a valid distribution name"),
        ({"project_slug": "billing--service"}, "is not a valid distribution name"),
        ({"project_slug": "-billing"}, "is not a valid distribution name"),
        ({"project_name": "  "}, "project_name is empty"),
        ({"project_name": 'The "Best" API'}, "would break the generated code"),
        ({"author_email": "dev@localhost"}, "author_email 'dev@localhost' does not look like"),
        ({"author_email": "not an email"}, "does not look like an email address"),
        ({"version": "one"}, "version 'one' is not a release version"),
        ({"auth": "jwt", "database": "none"}, "auth=jwt needs a database"),
        ({"auth": "api_key", "database": "none"}, "choose database=sqlite or database=postgresql"),
        ({"oidc_signin": "yes"}, "oidc_signin=yes issues the service's own tokens"),
        ({"oidc_signin": "yes", "auth": "api_key"}, "choose auth=jwt or auth=jwt_and_api_key"),
        ({"rag": "yes", "llm": "openai", "database": "none"}, "rag=yes stores documents"),
        ({"rag": "yes", "llm": "none"}, "but llm=none: choose database=sqlite"),
        ({"rag": "yes", "database": "none"}, "but database=none and llm=none"),
    ],
)
def test_invalid_answer_is_refused_with_a_reason(overrides: dict[str, str], expected: str) -> None:
    errors = validate(valid_answers(**overrides))

    assert len(errors) == 1, errors
    assert expected in errors[0]


def test_every_problem_is_reported_at_once() -> None:
    errors = validate(valid_answers(package_name="json", author_email="nope", version="x"))

    assert len(errors) == 3


def test_messages_suggest_a_fix() -> None:
    [error] = validate(valid_answers(package_name="fastapi"))

    assert "package_name=fastapi_service" in error


def test_observability_and_redis_are_independent_of_the_database() -> None:
    answers = valid_answers(database="none")
    answers.update({"redis": "yes", "observability": "yes"})

    assert validate(answers) == []


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["package_name=fastapi"], "shadows a dependency"),
        (["auth=jwt", "database=none"], "auth=jwt needs a database"),
        (["oidc_signin=yes"], "oidc_signin=yes issues the service's own tokens"),
        (["rag=yes"], "rag=yes stores documents"),
        (["author_email=nobody"], "does not look like an email address"),
    ],
)
def test_a_refused_bake_fails_and_leaves_nothing_behind(
    tmp_path: Path, answers: list[str], expected: str
) -> None:
    result = subprocess.run(
        [COOKIECUTTER, "--no-input", "-o", str(tmp_path), str(TEMPLATE_ROOT), *answers],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert expected in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_misspelled_option_fails_the_test_helpers(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="no such template option"):
        bake(tmp_path, datbase="sqlite")
