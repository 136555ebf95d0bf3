{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
"""Production refuses to start with unsafe settings, and says which one is wrong."""

from typing import Any

import pytest
{% if jwt %}
from pydantic import SecretStr, ValidationError
{% else %}
from pydantic import ValidationError
{% endif %}

from {{ cookiecutter.package_name }}.core.config import Environment, Settings
from {{ cookiecutter.package_name }}.main import create_app

{% if jwt %}
STRONG_KEY = SecretStr("k" * 48)


def production(**overrides: Any) -> Settings:
    values = {"secret_key": STRONG_KEY, **overrides}
    return Settings(_env_file=None, environment=Environment.PRODUCTION, **values)
{% else %}

def production(**overrides: Any) -> Settings:
    return Settings(_env_file=None, environment=Environment.PRODUCTION, **overrides)
{% endif %}


def test_safe_production_settings_are_accepted() -> None:
    settings = production(cors_origins=["https://app.example.com"])

    assert settings.json_logs is True
    assert create_app(settings).title == settings.app_name


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
{% if jwt %}
        ({"secret_key": SecretStr("change-me")}, "SECRET_KEY is still the insecure default"),
        ({"secret_key": SecretStr("short")}, "SECRET_KEY is shorter than 32 characters"),
{% endif %}
        ({"debug": True}, "DEBUG must be false"),
        ({"cors_origins": ["*"]}, "CORS_ORIGINS must list explicit origins"),
    ],
)
def test_unsafe_production_settings_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        production(**overrides)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as excinfo:
{% if jwt %}
        production(secret_key=SecretStr("short"), debug=True)

    assert "SECRET_KEY" in str(excinfo.value)
    assert "DEBUG" in str(excinfo.value)
{% else %}
        production(cors_origins=["*"], debug=True)

    assert "CORS_ORIGINS" in str(excinfo.value)
    assert "DEBUG" in str(excinfo.value)
{% endif %}


{% if jwt %}
def test_local_development_allows_the_default_secret() -> None:
{% else %}
def test_local_development_logs_for_the_console() -> None:
{% endif %}
    settings = Settings(_env_file=None, environment=Environment.LOCAL)

    assert settings.json_logs is False


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
{% if jwt %}
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
{% endif %}
    monkeypatch.setenv("CORS_ORIGINS", '["https://app.example.com"]')

    settings = Settings(_env_file=None)

    assert settings.environment is Environment.PRODUCTION
    assert settings.cors_origins == ["https://app.example.com"]


def test_a_malformed_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")

    with pytest.raises(ValidationError, match="port"):
        Settings(_env_file=None)
