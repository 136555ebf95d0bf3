"""The rules a project's answers must follow, and the records of them a project keeps.

Shared by the template's hooks and by ``regenerate``, so that both refuse the same
answers and write the same records. The hooks run from a rendered copy in a temporary
folder; they import this module from the template's own ``src/`` folder, found through
``TEMPLATE_ROOT`` (see ``local_extensions.py``), which works the same for a checkout, a
git URL and a zip. So it needs the standard library only, and ``template_tools``'s
``__init__`` imports nothing.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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

    if answers.get("oidc_signin", "no") == "yes" and answers["auth"] not in (
        "jwt",
        "jwt_and_api_key",
    ):
        errors.append(
            f"oidc_signin=yes issues the service's own tokens after a provider's sign-in, "
            f"but auth={answers['auth']} has none: choose auth=jwt or auth=jwt_and_api_key, "
            "or set oidc_signin=no."
        )

    if answers.get("rag", "no") == "yes":
        missing = [
            f"{option}=none"
            for option in ("database", "llm")
            if answers.get(option, "none") == "none"
        ]
        if missing:
            errors.append(
                f"rag=yes stores documents and their embeddings in the database and answers "
                f"with an LLM, but {' and '.join(missing)}: choose database=sqlite or "
                "database=postgresql and an llm provider, or set rag=no."
            )

    return errors


ANSWERS_FILE = ".template-answers.json"
CRUFT_FILE = ".cruft.json"


def template_source(answers: Mapping[str, Any]) -> str:
    """Where the template came from, without this machine's absolute paths."""
    source = str(answers.get("_template", ""))
    return Path(source).name if Path(source).is_absolute() else source


def write_records(
    project: Path, source: str, commit: str | None, answers: Mapping[str, Any]
) -> None:
    """Record how the project was made: for ``regenerate``, and in cruft's own format.

    The post-generation hook writes them after a bake, ``regenerate`` after a merge.
    """
    public = {key: value for key, value in answers.items() if not key.startswith("_")}
    record = {"template": source, "commit": commit, "answers": public}
    cruft_context = {**public, "_template": source}
    if commit:
        cruft_context["_commit"] = commit
    cruft = {
        "template": source,
        "commit": commit,
        "checkout": None,
        "context": {"cookiecutter": cruft_context},
        "directory": None,
        # Every bake writes its own .env with a fresh secret: never a change to apply.
        "skip": [".env"],
    }
    for name, content in ((ANSWERS_FILE, record), (CRUFT_FILE, cruft)):
        (project / name).write_text(
            json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )


def read_records(project: Path) -> dict[str, Any]:
    """What ``write_records`` wrote: the template, its commit and the answers."""
    record: dict[str, Any] = json.loads((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    return record
