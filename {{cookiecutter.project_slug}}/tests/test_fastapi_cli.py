"""``fastapi run`` and ``fastapi dev`` find the app: the entry point pyproject.toml names."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi_cli.config import FastAPIConfig
from uvicorn.importer import import_from_string

PROJECT = Path(__file__).resolve().parent.parent


def test_fastapi_run_finds_the_app_pyproject_names(monkeypatch: pytest.MonkeyPatch) -> None:
    # From the project's folder, as the CLI runs; with the settings of a test.
    monkeypatch.chdir(PROJECT)
    monkeypatch.setenv("ENVIRONMENT", "test")
{% if cookiecutter.llm != "none" %}
    monkeypatch.setenv("LLM_PROVIDERS", '["fake"]')
{% endif %}
{% if cookiecutter.observability == "yes" %}
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    monkeypatch.setenv("SENTRY_DSN", "")
{% endif %}
    config = FastAPIConfig.resolve()
    assert config.from_pyproject
    assert config.entrypoint is not None

    # What uvicorn does with it, under `fastapi run` and `fastapi dev` alike.
    app = import_from_string(config.entrypoint)

    assert isinstance(app, FastAPI)
    assert app.url_path_for("live") == "/health/live"
