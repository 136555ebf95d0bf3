"""Settings from the environment (and ``.env``), validated once at startup."""

{% if cookiecutter.oidc_signin == "yes" %}
import re
{% endif %}
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Self

from limits import parse
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] or cookiecutter.llm != "none" or cookiecutter.observability == "yes" %}
from pydantic import AfterValidator, Field, SecretStr, model_validator
{% else %}
from pydantic import AfterValidator, Field, model_validator
{% endif %}
from pydantic_settings import BaseSettings, SettingsConfigDict
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] or cookiecutter.llm != "none" %}

{% endif %}
{% if cookiecutter.llm != "none" %}
from {{ cookiecutter.package_name }}.core.llm_types import (
{% if cookiecutter.rag == "yes" %}
    EmbeddingProviderName,
{% endif %}
    ModelCapabilities,
    ModelPrice,
    ProviderName,
)
{% endif %}
{% if cookiecutter.oidc_signin == "yes" %}
from {{ cookiecutter.package_name }}.core.oidc import HttpUrl, OidcProvider
{% endif %}
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
from {{ cookiecutter.package_name }}.core.security import (
    INSECURE_SECRET_KEY,
    generate_secret_key,
    secret_key_problem,
)
{% endif %}


def _rate_limit(value: str) -> str:
    parse(value)  # raises ValueError for anything but "<count>/<period>", e.g. "5/minute"
    return value


RateLimit = Annotated[str, AfterValidator(_rate_limit)]
{% if cookiecutter.oidc_signin == "yes" %}
OIDC_PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MAX_OIDC_PROVIDERS = 20
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
    log_max_value_chars: int = Field(
        default=4096,
        ge=256,
        description="Longer log values are cut to this many characters (tracebacks to 8 times "
        "as many) before redaction.",
    )
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
    secret_key: SecretStr = Field(
        default=SecretStr(INSECURE_SECRET_KEY), description="Derives the key that signs tokens."
    )
{% endif %}
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
    request_body_timeout: float = Field(
        default=15.0,
        gt=0,
        description="Seconds to receive a whole request body, whatever its framing, else 408.",
    )
    max_request_header_bytes: int = Field(
        default=65_536,
        ge=1024,
        description="Requests whose header names and values add up to more get 431.",
    )
    max_request_headers: int = Field(
        default=100, ge=10, description="Requests with more header fields get 431."
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
    database_pool_size: int = Field(
        default=10, ge=1, description="Connections each process keeps open (PostgreSQL)."
    )
    database_max_overflow: int = Field(
        default=0,
        ge=0,
        description="Connections opened beyond the pool under load, closed when handed back: "
        "each one a new connection per request (half the throughput, measured).",
    )
    database_pool_timeout: float = Field(default=10.0, gt=0)
    database_connect_timeout: float = Field(default=5.0, gt=0)
    database_echo: bool = False
{% endif %}

    rate_limit_storage_uri: str = Field(
        default="memory://",
        description="Where rate limit counters live: memory:// (per process) or redis://host:port/db.",
    )
    job_rate_limit: RateLimit = Field(
        default="30/minute",
{% if cookiecutter.auth != "none" %}
        description="Jobs a user may queue before further ones get 429.",
{% else %}
        description="Jobs a client IP may queue before further ones get 429.",
{% endif %}
    )
    job_max_payload_bytes: int = Field(
        default=65_536, ge=1, description="Largest arguments of a job, as JSON; larger get 413."
    )
{% if cookiecutter.redis == "yes" %}

    redis_url: str = Field(
        default="redis://localhost:6379/0",
        pattern=r"^(redis|rediss|unix)://",
        description="Redis URL: redis://[:password@]host:port/db (rediss:// for TLS).",
    )
    redis_connect_timeout: float = Field(
        default=0.5, gt=0, description="Seconds to open a connection to Redis."
    )
    redis_timeout: float = Field(
        default=0.5,
        gt=0,
        description="Seconds a Redis command may take; past it, Redis counts as down.",
    )
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
    otel_traces_sample_ratio: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Share of traces kept, decided where a trace starts (a caller's decision "
        "is followed); unset: every trace, one in ten in production.",
    )
    sentry_dsn: SecretStr | None = Field(
        default=None,
        description="Sentry DSN, e.g. https://key@o1.ingest.sentry.io/2; error tracking is off "
        "while unset.",
    )
    sentry_traces_sample_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share of requests Sentry also traces; 0: none."
    )
{% endif %}
{% if cookiecutter.llm != "none" %}
{% set anthropic = cookiecutter.llm in ["anthropic", "anthropic_and_openai"] %}
{% set openai = cookiecutter.llm in ["openai", "anthropic_and_openai"] %}

    llm_providers: list[ProviderName] = Field(
{% if cookiecutter.llm == "anthropic_and_openai" %}
        default=["anthropic", "openai"],
{% else %}
        default=["{{ cookiecutter.llm }}"],
{% endif %}
        min_length=1,
        description="Tried in this order, each the fallback of the one before; fake needs no key.",
    )
{% if anthropic %}
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str = "https://api.anthropic.com"
    anthropic_models: list[str] = Field(
        default=["claude-haiku-4-5", "claude-sonnet-4-6"],
        min_length=1,
        description="Models callers may ask for; the first is the default.",
    )
    anthropic_prompt_caching: bool = Field(
        default=False,
        description="Mark the system prompt and the conversation for Anthropic's prompt cache.",
    )
    anthropic_cache_ttl: Literal["5m", "1h"] = Field(
        default="5m", description="How long Anthropic keeps a cached prompt prefix (1h costs more)."
    )
{% endif %}
{% if openai %}
    openai_api_key: SecretStr | None = None
    openai_base_url: str = Field(
        default="https://api.openai.com/v1",
        description="Any OpenAI-compatible server (vLLM, Ollama, a gateway) works here.",
    )
    openai_api: Literal["responses", "chat_completions"] = Field(
        default="responses",
        description="OpenAI's Responses API, or Chat Completions for OpenAI-compatible servers.",
    )
    openai_models: list[str] = Field(
        default=["gpt-4.1-mini", "gpt-4.1"],
        min_length=1,
        description="Models callers may ask for; the first is the default.",
    )
{% endif %}
    llm_prices: dict[str, ModelPrice] = Field(
        default_factory=lambda: {
{% if anthropic %}
            "claude-haiku-4-5": ModelPrice(input=1, output=5, cache_read=0.1, cache_write=1.25),
            "claude-sonnet-4-6": ModelPrice(input=3, output=15, cache_read=0.3, cache_write=3.75),
{% endif %}
{% if openai %}
            "gpt-4.1-mini": ModelPrice(input=0.4, output=1.6, cache_read=0.1),
            "gpt-4.1": ModelPrice(input=2, output=8, cache_read=0.5),
{% endif %}
{% if cookiecutter.rag == "yes" and openai %}
            "text-embedding-3-small": ModelPrice(input=0.02, output=0),
{% endif %}
{% if cookiecutter.rag == "yes" and anthropic %}
            "voyage-3.5": ModelPrice(input=0.06, output=0),
{% endif %}
        },
        description="US dollars per million tokens, for every model callers may ask for.",
    )
    llm_models: dict[str, ModelCapabilities] = Field(
        default_factory=lambda: {
{% if anthropic %}
            "claude-haiku-4-5": ModelCapabilities(context_window=200_000),
            "claude-sonnet-4-6": ModelCapabilities(context_window=200_000, thinking=True),
{% endif %}
{% if openai %}
            "gpt-4.1-mini": ModelCapabilities(context_window=1_047_576),
            "gpt-4.1": ModelCapabilities(context_window=1_047_576),
{% endif %}
        },
        description="What each model accepts; a model not listed gets the defaults.",
    )
    llm_max_tool_steps: int = Field(
        default=8, ge=1, le=50, description="Model turns per answer when it calls tools."
    )
    llm_tool_timeout: float = Field(default=10.0, gt=0, description="Seconds per tool call.")
    llm_connect_timeout: float = Field(default=5.0, gt=0)
    llm_read_timeout: float = Field(
        default=60.0, gt=0, description="Seconds the provider may stay silent."
    )
    llm_total_timeout: float = Field(
        default=300.0, gt=0, description="Seconds for a whole call, retries and fallback included."
    )
    llm_max_attempts: int = Field(
        default=3, ge=1, description="Tries per provider on 429, 5xx, timeouts, lost connections."
    )
    llm_retry_base_delay: float = Field(default=0.5, ge=0, description="Seconds, doubled each try.")
    llm_retry_max_delay: float = Field(
        default=20.0,
        ge=0,
        description="Longest wait between tries; a longer Retry-After moves to the next provider.",
    )
    llm_breaker_threshold: int = Field(
        default=5, ge=1, description="Failures in a row that open a provider's circuit."
    )
    llm_breaker_reset_seconds: float = Field(
        default=30.0, gt=0, description="How long an open circuit fails fast before a new try."
    )
{% if cookiecutter.redis == "yes" %}
    llm_cache_url: str = Field(
        default="mem://",
        description="Response cache: mem:// (in process) or a redis:// URL; REDIS_URL when unset.",
    )
{% else %}
    llm_cache_url: str = Field(
        default="mem://", description="Response cache: mem:// (in process) or redis://host:port/db."
    )
{% endif %}
    llm_cache_prefix: str = Field(
        default="{{ cookiecutter.package_name }}:llm:",
        min_length=1,
        description="Start of every cache key; services sharing a Redis need distinct ones.",
    )
    llm_cache_ttl: int = Field(
        default=3600, ge=0, description="Seconds a cached answer lives; 0 turns the cache off."
    )
    llm_cache_any_temperature: bool = Field(
        default=False, description="Also cache requests whose temperature is not 0."
    )
{% if cookiecutter.auth != "none" %}
    llm_cache_shared: bool = Field(
        default=False,
        description="One cache for every user, not one each: tells a user what others asked.",
    )
{% endif %}
    llm_requests_per_minute: int = Field(default=60, ge=0, description="Per caller; 0: no limit.")
    llm_global_requests_per_minute: int = Field(default=1000, ge=0, description="0: no limit.")
    llm_tokens_per_minute: int = Field(
        default=100_000, ge=0, description="Per caller, prompt estimate + max_tokens; 0: no limit."
    )
    llm_global_tokens_per_minute: int = Field(default=1_000_000, ge=0, description="0: no limit.")
    llm_daily_token_budget: int = Field(
        default=0, ge=0, description="Tokens per caller and day, as reported; 0: no budget."
    )
    llm_daily_cost_budget: float = Field(
        default=0, ge=0, description="US dollars per caller and day; 0: no budget."
    )
    llm_log_content: bool = Field(
        default=False, description="Also log prompts and answers: personal data, keep it off."
    )
{% if cookiecutter.database != "none" %}
    llm_usage_flush_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Usage rows wait at most this long to be written together; 0: each at once.",
    )
{% endif %}
    llm_health_check_reachability: bool = Field(
        default=False, description="/health/ready also asks each provider for its models."
    )

    @model_validator(mode="after")
    def _check_llm_providers(self) -> Self:
        if len(set(self.llm_providers)) != len(self.llm_providers):
            msg = "LLM_PROVIDERS names a provider twice"
            raise ValueError(msg)
        offered = {
{% if anthropic %}
            "anthropic": self.anthropic_models,
{% endif %}
{% if openai %}
            "openai": self.openai_models,
{% endif %}
        }
        unpriced = sorted(
            {
                model
                for provider in self.llm_providers
                for model in offered.get(provider, [])
                if model not in self.llm_prices
            }
        )
        if unpriced:
            msg = f"LLM_PRICES has no price for {', '.join(unpriced)}"
            raise ValueError(msg)
        return self

    def capabilities(self, model: str) -> ModelCapabilities:
        """What ``model`` accepts: its row of ``LLM_MODELS``, or the defaults."""
        return self.llm_models.get(model) or ModelCapabilities()
{% if cookiecutter.redis == "yes" %}

    @model_validator(mode="after")
    def _cache_llm_answers_in_redis(self) -> Self:
        """Answers are cached in the shared Redis, so every worker reuses them."""
        if "llm_cache_url" not in self.model_fields_set:
            self.llm_cache_url = self.redis_url
        return self
{% endif %}
{% if cookiecutter.rag == "yes" %}

    embedding_provider: EmbeddingProviderName = Field(
        default="{{ "voyage" if cookiecutter.llm == "anthropic" else "openai" }}",
        description="Who embeds documents and queries; fake needs no key (hashed words).",
    )
    embedding_model: str = Field(
        default="{{ "voyage-3.5" if cookiecutter.llm == "anthropic" else "text-embedding-3-small" }}",
        min_length=1,
        description="Changing it means embedding every document again (docs/rag.md).",
    )
    embedding_dimensions: int = Field(
        default=1024,
        ge=8,
        le=4096,
        description="Length of every embedding, fixed by the migration that made the index: "
        "changing it needs a new one (docs/rag.md).",
    )
    embedding_base_url: str | None = Field(
        default=None,
{% if cookiecutter.llm == "anthropic" %}
        description="Another address of Voyage AI's API (a gateway); unset: its own.",
{% else %}
        description="A server with the provider's embeddings API (for openai: Ollama, vLLM, TEI); "
        "unset: {{ "OPENAI_BASE_URL for openai, the provider's own otherwise" if cookiecutter.llm == "anthropic_and_openai" else "OPENAI_BASE_URL" }}.",
{% endif %}
    )
{% if cookiecutter.llm == "anthropic" %}
    embedding_api_key: SecretStr | None = Field(default=None, description="Voyage AI's API key.")
{% else %}
    embedding_api_key: SecretStr | None = Field(
        default=None,
        description="The embedding provider's key; for openai, OPENAI_API_KEY if unset.",
    )
{% endif %}
    embedding_batch_size: int = Field(
        default=64, ge=1, le=1000, description="Texts per request to the embedding provider."
    )
    rag_max_document_bytes: int = Field(
        default=750_000,
        ge=1,
        description="Largest document in bytes (a PDF's before base64, which adds a third: keep "
        "MAX_REQUEST_BODY_BYTES above 4/3 of it).",
    )
    rag_max_chunks: int = Field(
        default=2000, ge=1, description="Most chunks of one document; larger ones are refused."
    )
    rag_chunk_tokens: int = Field(
        default=400, ge=32, le=8000, description="Largest chunk, in tokens."
    )
    rag_chunk_overlap: int = Field(
        default=50, ge=0, description="Tokens a chunk repeats from the one before."
    )
    rag_top_k: int = Field(default=5, ge=1, le=50, description="Sources an answer is given.")
    rag_min_score: float = Field(
        default=0.3,
        ge=-1,
        le=1,
        description="Cosine similarity a chunk needs to be a source; below, nothing relevant.",
    )

    @model_validator(mode="after")
    def _check_chunking(self) -> Self:
        if self.rag_chunk_overlap >= self.rag_chunk_tokens:
            msg = "RAG_CHUNK_OVERLAP must be smaller than RAG_CHUNK_TOKENS"
            raise ValueError(msg)
        return self
{% endif %}
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
{% if cookiecutter.oidc_signin == "yes" %}
    oidc_providers: dict[str, OidcProvider] = Field(
        default_factory=dict,
        description="OpenID Connect providers by name, as JSON (see docs/security.md).",
    )
    oidc_redirect_base_url: HttpUrl = Field(
        default="http://localhost:8000",
        description="The service's public URL, that providers send users back to.",
    )
    oidc_metadata_ttl_seconds: int = Field(
        default=3600, ge=60, le=86_400, description="How long discovery and keys are cached."
    )
    oidc_http_timeout: float = Field(
        default=10.0, gt=0, le=60, description="Seconds per call to a provider."
    )
    oidc_state_ttl_seconds: int = Field(
        default=600, ge=60, le=3600, description="How long a begun sign-in may take to finish."
    )
{% endif %}

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
{% if cookiecutter.oidc_signin == "yes" %}

    @model_validator(mode="after")
    def _check_oidc_providers(self) -> Self:
        if len(self.oidc_providers) > MAX_OIDC_PROVIDERS:
            msg = f"OIDC_PROVIDERS lists more than {MAX_OIDC_PROVIDERS} providers"
            raise ValueError(msg)
        for name in self.oidc_providers:
            if not OIDC_PROVIDER_NAME.fullmatch(name):
                msg = (
                    f"OIDC_PROVIDERS: {name!r} is not a provider name: use up to 32 lowercase "
                    "letters, digits, - and _"
                )
                raise ValueError(msg)
        return self
{% endif %}
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
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
        if reason := secret_key_problem(self.secret_key.get_secret_value()):
            problems.append(
                f"SECRET_KEY {reason}: set a random value, e.g. {generate_secret_key()!r}"
            )
{% endif %}
{% if cookiecutter.oidc_signin == "yes" %}
        if self.oidc_providers and not self.oidc_redirect_base_url.startswith("https://"):
            problems.append("OIDC_REDIRECT_BASE_URL must be an https:// URL")
{% endif %}
        if self.debug:
            problems.append("DEBUG must be false")
        if "*" in self.cors_origins:
            problems.append("CORS_ORIGINS must list explicit origins, not '*'")
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self
{% if cookiecutter.redis == "yes" %}

    @model_validator(mode="after")
    def _count_rate_limits_in_redis(self) -> Self:
        """Rate limits default to the shared Redis, so every worker sees the same counters."""
        if "rate_limit_storage_uri" not in self.model_fields_set:
            self.rate_limit_storage_uri = self.redis_url
        return self
{% endif %}
