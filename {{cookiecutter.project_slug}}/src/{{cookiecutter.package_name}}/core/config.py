"""Settings from the environment (and ``.env``), validated once at startup."""

from enum import StrEnum
from pathlib import Path
{% if cookiecutter.auth != "none" %}
from typing import Annotated, Literal, Self

from limits import parse
from pydantic import AfterValidator, Field, SecretStr, model_validator
{% else %}
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
{% endif %}
from pydantic_settings import BaseSettings, SettingsConfigDict

from {{ cookiecutter.package_name }}.core.security import (
    INSECURE_SECRET_KEY,
    generate_secret_key,
    secret_key_problem,
)


{% if cookiecutter.auth != "none" %}
def _rate_limit(value: str) -> str:
    parse(value)  # raises ValueError for anything but "<count>/<period>", e.g. "5/minute"
    return value


RateLimit = Annotated[str, AfterValidator(_rate_limit)]


{% endif %}
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
{% if cookiecutter.auth != "none" %}

    auth_failure_rate_limit: RateLimit = Field(
        default="30/minute",
        description="Failed authentications per client IP before further attempts get 429.",
    )
{% if cookiecutter.auth != "api_key" %}
    jwt_algorithm: Literal["HS256", "RS256", "ES256"] = Field(
        default="HS256",
        description="HS256 signs with a key derived from SECRET_KEY, RS256 and ES256 with a file.",
    )
    jwt_private_key_file: Path | None = Field(
        default=None, description="PEM private key that signs tokens (RS256: RSA, ES256: P-256)."
    )
    jwt_public_key_file: Path | None = Field(
        default=None, description="PEM public key that verifies tokens; default: the private key's."
    )
    jwt_issuer: str = "{{ cookiecutter.project_slug }}"
    jwt_audience: str = "{{ cookiecutter.project_slug }}"
    jwt_leeway_seconds: int = Field(default=10, ge=0, le=120, description="Clock skew tolerated.")
    access_token_ttl_seconds: int = Field(default=900, ge=30)
    refresh_token_ttl_seconds: int = Field(
        default=1_209_600, ge=300, description="How long a login lasts, however often refreshed."
    )
    password_hash_time_cost: int = Field(default=3, ge=1, description="Argon2id iterations.")
    password_hash_memory_kib: int = Field(default=65_536, ge=1024, description="Argon2id memory.")
    login_rate_limit_per_ip: RateLimit = "20/minute"
    login_rate_limit_per_account: RateLimit = "5/minute"

    @model_validator(mode="after")
    def _require_jwt_key_files(self) -> Self:
        if self.jwt_algorithm != "HS256" and self.jwt_private_key_file is None:
            msg = f"JWT_ALGORITHM={self.jwt_algorithm} needs JWT_PRIVATE_KEY_FILE"
            raise ValueError(msg)
        for path in (self.jwt_private_key_file, self.jwt_public_key_file):
            if path is not None and not path.is_file():
                msg = f"JWT key file {path} does not exist"
                raise ValueError(msg)
        return self
{% endif %}
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
