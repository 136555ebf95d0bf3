"""Validate the answers before anything is generated.

Each refusal names the answer, says why it is refused and how to fix it. On any
refusal the hook exits non-zero and the generator removes the half-made project.
The module stays valid Python before rendering (Jinja only inside the string
literal below), so the template's tests import and call ``validate`` directly.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections.abc import Mapping

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
VERSION_PATTERN = re.compile(r"^\d+(\.\d+){1,2}((a|b|rc)\d+)?$")

# Keeps every generated line within the 100-character limit the generated linter enforces.
UNSAFE_NAME_CHARACTERS = frozenset('"\\{}%')
MAX_LENGTHS = {"project_name": 50, "project_slug": 40, "package_name": 30}

# Import names the generated service depends on, or that commonly collide with
# tooling; a package with one of these names would shadow it.
RESERVED_PACKAGE_NAMES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "anthropic",
        "anyio",
        "app",
        "argon2",
        "arq",
        "asgi_correlation_id",
        "asgi_lifespan",
        "asyncpg",
        "cashews",
        "conftest",
        "cryptography",
        "fastapi",
        "httpx",
        "jwt",
        "limits",
        "main",
        "multipart",
        "mypy",
        "openai",
        "opentelemetry",
        "prometheus_client",
        "purgatory",
        "pwdlib",
        "pydantic",
        "pydantic_settings",
        "pytest",
        "python_multipart",
        "redis",
        "ruff",
        "site",
        "sqlalchemy",
        "src",
        "starlette",
        "structlog",
        "tenacity",
        "test",
        "tests",
        "uvicorn",
        "yaml",
    }
)


def validate(answers: Mapping[str, str]) -> list[str]:
    """Return one message per invalid answer; an empty list means all is well."""
    errors: list[str] = []

    if not answers["project_name"].strip():
        errors.append("project_name is empty: give the service a human-readable name.")
    if UNSAFE_NAME_CHARACTERS.intersection(answers["project_name"]):
        errors.append(
            f"project_name {answers['project_name']!r} contains one of "
            f"{' '.join(sorted(UNSAFE_NAME_CHARACTERS))}, which would break the generated "
            "code: remove them."
        )
    for option, limit in MAX_LENGTHS.items():
        if len(answers[option]) > limit:
            errors.append(
                f"{option} is {len(answers[option])} characters long; the limit is {limit}: "
                f"choose a shorter {option}."
            )

    slug = answers["project_slug"]
    if not SLUG_PATTERN.match(slug):
        errors.append(
            f"project_slug {slug!r} is not a valid distribution name: use lowercase "
            "letters, digits and single hyphens, starting with a letter "
            "(for example project_slug=my-service)."
        )

    package = answers["package_name"]
    suggestion = f"{package}_service" if package.isidentifier() else "my_service"
    if not PACKAGE_PATTERN.match(package):
        errors.append(
            f"package_name {package!r} is not a valid Python package name: use "
            "lowercase letters, digits and underscores, starting with a letter "
            "(for example package_name=my_service)."
        )
    elif keyword.iskeyword(package) or keyword.issoftkeyword(package):
        errors.append(
            f"package_name {package!r} is a Python keyword and cannot be imported: "
            f"choose another name, for example package_name={suggestion}."
        )
    elif package in sys.stdlib_module_names:
        errors.append(
            f"package_name {package!r} shadows the standard library module of that "
            f"name: choose another name, for example package_name={suggestion}."
        )
    elif package in RESERVED_PACKAGE_NAMES:
        errors.append(
            f"package_name {package!r} shadows a dependency or tool of the generated "
            f"service: choose another name, for example package_name={suggestion}."
        )

    email = answers["author_email"]
    if not EMAIL_PATTERN.match(email):
        errors.append(
            f"author_email {email!r} does not look like an email address: "
            "use the form name@example.com."
        )

    version = answers["version"]
    if not VERSION_PATTERN.match(version):
        errors.append(f"version {version!r} is not a release version: use the form 0.1.0.")

    if answers["auth"] != "none" and answers["database"] == "none":
        errors.append(
            f"auth={answers['auth']} needs a database to store users and keys, but "
            "database=none: choose database=sqlite or database=postgresql, "
            "or set auth=none."
        )

    return errors


def main() -> int:
    errors = validate(json.loads(ANSWERS_JSON))
    if errors:
        print("The answers cannot generate a project:", file=sys.stderr)
        for error in errors:
            print(f"  - {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
