"""Settings from the environment (and ``.env``), validated once at startup."""

from enum import StrEnum
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from {{ cookiecutter.package_name }}.core.security import (
    INSECURE_SECRET_KEY,
    generate_secret_key,
    secret_key_problem,
)


class Environment(StrEnum):
    LOCAL = "local"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting is read from an upper-case environment variable of the same name."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_name: str = {{ cookiecutter.project_name | tojson }}
    environment: Environment = Environment.LOCAL
    debug: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_json: bool | None = Field(
        default=None, description="JSON logs; defaults to on in production, off elsewhere."
    )
    secret_key: SecretStr = SecretStr(INSECURE_SECRET_KEY)
    cors_origins: list[str] = Field(
        default_factory=list, description='Allowed CORS origins, as a JSON list: ["https://a.b"].'
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    graceful_shutdown_timeout: int = Field(default=30, ge=0)
    max_request_body_bytes: int = Field(
        default=1_048_576, ge=1, description="Larger request bodies are refused with 413."
    )
    request_timeout: float = Field(
        default=30.0, gt=0, description="Seconds until the response must start, else 504."
    )

    health_check_timeout: float = Field(
        default=2.0, gt=0, description="Seconds per readiness check."
    )
    health_disk_path: Path = Path()
    health_min_free_disk_mb: int = Field(default=100, ge=0)
{% if cookiecutter.database != "none" %}

    database_url: str = Field(
{% if cookiecutter.database == "sqlite" %}
        default="sqlite+aiosqlite:///./{{ cookiecutter.package_name }}.db",
{% else %}
        default="postgresql+asyncpg://postgres:postgres@localhost:5432/{{ cookiecutter.package_name }}",
{% endif %}
        pattern=r"^(sqlite\+aiosqlite|postgresql\+asyncpg)://",
        description="SQLAlchemy URL with an async driver (sqlite+aiosqlite or postgresql+asyncpg).",
    )
    database_pool_size: int = Field(default=5, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    database_pool_timeout: float = Field(default=10.0, gt=0)
    database_connect_timeout: float = Field(default=5.0, gt=0)
    database_echo: bool = False
{% endif %}
{% if cookiecutter.auth != "none" or cookiecutter.llm != "none" %}

    rate_limit_storage_uri: str = Field(
        default="memory://",
        description="Where rate limit counters live: memory:// (per process) or redis://host:port/db.",
    )
{% endif %}
{% if cookiecutter.redis == "yes" %}

    redis_url: str = Field(
        default="redis://localhost:6379/0",
        pattern=r"^(redis|rediss|unix)://",
        description="Redis URL: redis://[:password@]host:port/db (rediss:// for TLS).",
    )
    redis_connect_timeout: float = Field(default=5.0, gt=0)
    job_queue_name: str = Field(
        default="{{ cookiecutter.package_name }}:jobs",
        min_length=1,
        description="Redis key of the job queue; services sharing a Redis need distinct names.",
    )
    job_timeout: int = Field(default=300, ge=1, description="Seconds a job may run.")
    worker_max_jobs: int = Field(default=10, ge=1, description="Jobs a worker runs at once.")
{% endif %}
{% if cookiecutter.observability == "yes" %}

    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector, e.g. http://localhost:4318; tracing is off while unset.",
    )
    otel_service_name: str = "{{ cookiecutter.project_slug }}"
{% endif %}

    @property
    def json_logs(self) -> bool:
        if self.log_json is not None:
            return self.log_json
        return self.environment is Environment.PRODUCTION

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.environment is not Environment.PRODUCTION:
            return self
        problems = []
        if reason := secret_key_problem(self.secret_key.get_secret_value()):
            problems.append(
                f"SECRET_KEY {reason}: set a random value, e.g. {generate_secret_key()!r}"
            )
        if self.debug:
            problems.append("DEBUG must be false")
        if "*" in self.cors_origins:
            problems.append("CORS_ORIGINS must list explicit origins, not '*'")
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self
{% if cookiecutter.redis == "yes" and (cookiecutter.auth != "none" or cookiecutter.llm != "none") %}

    @model_validator(mode="after")
    def _count_rate_limits_in_redis(self) -> Self:
        """Rate limits default to the shared Redis, so every worker sees the same counters."""
        if "rate_limit_storage_uri" not in self.model_fields_set:
            self.rate_limit_storage_uri = self.redis_url
        return self
{% endif %}
