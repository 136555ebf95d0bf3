"""The service measured: the full-option bake, its extra apps, its databases and servers."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from llm_streams import UPSTREAM_LATENCY_S
from servers import Server, free_port

from template_tools.bake import bake

UV = str(Path(sys.executable).with_name("uv"))
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://root@127.0.0.1:5432/postgres"
)

# The full-option bake whose hot paths are measured, less authentication (the read
# route then needs no credentials) and Redis (so that the script needs no Redis).
ANSWERS = {
    "project_name": "Bench Service",
    "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
    "database": "sqlite",
    "auth": "none",
    "llm": "anthropic_and_openai",
    "redis": "no",
    "observability": "yes",
    "docker": "no",
    "ci": "none",
}
PACKAGE = "bench_service"
GRANIAN = "granian==2.8.9"

BASELINE_APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}
"""

# Reference (a): what the service's middleware does (request ID, timing, security
# headers, CORS, a JSON access line, metrics, a deadline), written as one pure-ASGI
# layer around bare FastAPI: the physical limit of these behaviours on this stack.
REFERENCE_MIDDLEWARE_APP = """\
import asyncio
import json
import os
import time
import uuid

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram

ORIGIN = b"https://app.example.com"
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
registry = CollectorRegistry()
requests = Counter("http_requests", "Requests.", ["method", "route", "status"], registry=registry)
durations = Histogram("http_duration_seconds", "Time.", ["method", "route"], registry=registry)
api = FastAPI()


@api.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return await api(scope, receive, send)
    start = time.perf_counter()
    request_id = origin = None
    for name, value in scope["headers"]:
        if name == b"x-request-id" and len(value) <= 64:
            request_id = value
        elif name == b"origin":
            origin = value
    request_id = request_id or uuid.uuid4().hex.encode()
    status = 500

    async def send_with_headers(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            dur = (time.perf_counter() - start) * 1000
            headers = [*message.get("headers", ()), *SECURITY_HEADERS]
            headers.append((b"x-request-id", request_id))
            headers.append((b"server-timing", b"app;dur=%.1f" % dur))
            if origin == ORIGIN:
                headers += [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
            message["headers"] = headers
        await send(message)

    deadline = asyncio.get_running_loop().call_later(30, asyncio.current_task().cancel)
    try:
        await api(scope, receive, send_with_headers)
    finally:
        deadline.cancel()
        elapsed = time.perf_counter() - start
        requests.labels(scope["method"], scope["path"], str(status)).inc()
        durations.labels(scope["method"], scope["path"]).observe(elapsed)
        line = {
            "event": "request",
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "request_id": request_id.decode(),
            "timestamp": time.time(),
        }
        os.write(1, json.dumps(line).encode() + b"\\n")
"""

# Reference (b): a bare async-SQLAlchemy read of a note by primary key.
REFERENCE_READ_APP = """\
import os
import uuid

from fastapi import FastAPI, HTTPException
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from {package}.database.models import Note

# The service's pool (a fixed size): the comparison is of the read path alone.
engine = (
    create_async_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=0)
    if os.environ["DATABASE_URL"].startswith("postgresql")
    else create_async_engine(os.environ["DATABASE_URL"])
)
sessions = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {{"status": "ok"}}


@app.get("/notes/{{note_id}}")
async def read(note_id: uuid.UUID) -> dict[str, str]:
    async with sessions() as session:
        note = await session.get(Note, note_id)
    if note is None:
        raise HTTPException(404)
    return {{"id": str(note.id), "title": note.title, "body": note.body}}
"""

# Reference (c): a bare endpoint that streams through the official SDK and re-emits
# the text as Server-Sent Events, with FastAPI's own SSE.
REFERENCE_STREAM_APP = """\
import os
from collections.abc import AsyncIterator

from anthropic import AsyncAnthropic
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel

client = AsyncAnthropic(base_url=os.environ["ANTHROPIC_BASE_URL"])
app = FastAPI()


class Prompt(BaseModel):
    prompt: str


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/stream", response_class=EventSourceResponse)
async def stream(body: Prompt) -> AsyncIterator[ServerSentEvent]:
    messages = [{"role": "user", "content": body.prompt}]
    async with client.messages.stream(
        model="claude-haiku-4-5", max_tokens=1024, messages=messages
    ) as answer:
        async for text in answer.text_stream:
            yield ServerSentEvent(data={"text": text}, event="delta")
        usage = (await answer.get_final_message()).usage
    yield ServerSentEvent(
        data={"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
        event="usage",
    )
"""

# The service with tracing on: the project's own tracer provider (its sampler, its
# batch processor), with the OTLP exporter swapped for one that drops the spans.
TRACED_APP = """\
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from {package} import main
from {package}.core import telemetry


class DiscardingExporter(SpanExporter):
    def __init__(self, endpoint: str = "") -> None:
        self.endpoint = endpoint

    def export(self, spans):
        return SpanExportResult.SUCCESS


telemetry.OTLPSpanExporter = DiscardingExporter
create_app = main.create_app
"""

# The project's provider stub, each request held for a fixed upstream latency.
STUB_APP = """\
import asyncio
import sys

import uvicorn

from tests.llm.stub import ProviderStub

LATENCY = float(sys.argv[1])  # then --port PORT


class Delayed:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            await asyncio.sleep(LATENCY)
        await self.app(scope, receive, send)


stub = ProviderStub()
uvicorn.run(
    Delayed(stub.app()),
    host="127.0.0.1",
    port=int(sys.argv[3]),
    log_level="warning",
    lifespan="off",
    backlog=4096,
)
"""

CREATE_DATABASE = """\
import asyncio, sys
import asyncpg

async def main(url, name, drop):
    connection = await asyncpg.connect(url, timeout=5)
    try:
        if drop:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] == "drop"))
"""


def bake_bench_project(template: Path, workdir: Path) -> Path:
    project = bake(template, ANSWERS, workdir)
    # With the dev group: it has the stub's server and the other database's driver.
    subprocess.run(
        [UV, "sync", "--quiet"],
        cwd=project,
        env={**os.environ, "UV_PYTHON": sys.executable},
        check=True,
    )
    # Granian, tried as the production server beside uvicorn (issue 18): the bench's own.
    subprocess.run(
        [UV, "pip", "install", "--quiet", "--python", python(project), GRANIAN],
        cwd=project,
        check=True,
    )
    (project / "bench_baseline.py").write_text(BASELINE_APP)
    (project / "bench_traced.py").write_text(TRACED_APP.format(package=PACKAGE))
    (project / "bench_stub.py").write_text(STUB_APP)
    (project / "bench_reference_middleware.py").write_text(REFERENCE_MIDDLEWARE_APP)
    (project / "bench_reference_read.py").write_text(REFERENCE_READ_APP.format(package=PACKAGE))
    (project / "bench_reference_stream.py").write_text(REFERENCE_STREAM_APP)
    return project


def python(project: Path) -> str:
    return str(project / ".venv" / "bin" / "python")


def migrate(project: Path, database_url: str) -> None:
    subprocess.run(
        [python(project), "-m", "alembic", "upgrade", "head"],
        cwd=project,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def scratch_postgres(project: Path) -> Iterator[str | None]:
    """The URL of a fresh, migrated PostgreSQL database, or None without PostgreSQL."""
    name = f"bench_{secrets.token_hex(4)}"
    admin_url = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")

    def run(action: str) -> bool:
        return (
            subprocess.run(
                [python(project), "-c", CREATE_DATABASE, admin_url, name, action],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )

    if not run("create"):
        yield None
        return
    try:
        url = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
        migrate(project, url)
        yield url
    finally:
        run("drop")


def servers_for(project: Path, postgres_url: str | None) -> dict[str, Server]:
    uvicorn = [python(project), "-m", "uvicorn", "--no-access-log", "--log-level", "warning"]
    factory = [*uvicorn, "--factory", f"{PACKAGE}.main:create_app"]
    stub_port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "LOG_JSON": "true",
        "CORS_ORIGINS": '["https://app.example.com"]',
        "DATABASE_URL": f"sqlite+aiosqlite:///{project / 'bench.db'}",
        # The LLM routes call the stub; no limits, no cache: every stream goes upstream.
        "LLM_PROVIDERS": '["anthropic"]',
        "ANTHROPIC_API_KEY": "sk-ant-bench-0123456789",
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{stub_port}/anthropic",
        "OPENAI_API_KEY": "sk-openai-bench-0123456789",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{stub_port}/openai/v1",
        "LLM_REQUESTS_PER_MINUTE": "0",
        "LLM_GLOBAL_REQUESTS_PER_MINUTE": "0",
        "LLM_TOKENS_PER_MINUTE": "0",
        "LLM_GLOBAL_TOKENS_PER_MINUTE": "0",
        "LLM_CACHE_TTL": "0",
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    granian = [
        str(project / ".venv" / "bin" / "granian"),
        "--interface",
        "asgi",
        "--no-ws",
        "--log-level",
        "warning",
    ]
    servers = {
        "baseline": Server("baseline", [*uvicorn, "bench_baseline:app"], project, env, "/ping"),
        "service": Server("service", factory, project, env, "/health/live"),
        "baseline_granian": Server(
            "baseline_granian", [*granian, "bench_baseline:app"], project, env, "/ping"
        ),
        "service_granian": Server(
            "service_granian",
            [*granian, "--factory", f"{PACKAGE}.main:create_app"],
            project,
            env,
            "/health/live",
        ),
        "traced": Server(
            "traced",
            [*uvicorn, "--factory", "bench_traced:create_app"],
            project,
            # Never contacted: the exporter is swapped out (see TRACED_APP).
            {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
            "/health/live",
        ),
        "stub": Server(
            "stub",
            [python(project), "bench_stub.py", str(UPSTREAM_LATENCY_S)],
            project,
            env,
            "/anthropic/v1/models",
            port=stub_port,
        ),
    }
    references = {
        "reference_middleware": ([*uvicorn, "bench_reference_middleware:app"], env, "/health/live"),
        "reference_read_sqlite": ([*uvicorn, "bench_reference_read:app"], env, "/ping"),
        "reference_stream": ([*uvicorn, "bench_reference_stream:app"], env, "/ping"),
    }
    if postgres_url is not None:
        servers["postgres"] = Server(
            "postgres", factory, project, {**env, "DATABASE_URL": postgres_url}, "/health/live"
        )
        references["reference_read_postgresql"] = (
            [*uvicorn, "bench_reference_read:app"],
            {**env, "DATABASE_URL": postgres_url},
            "/ping",
        )
    for name, (command, server_env, health) in references.items():
        servers[name] = Server(name, command, project, server_env, health)
    return servers


def post_json(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, object] = json.load(response)
        return result


def seed_note(server: Server) -> str:
    """A user and a note of theirs; the note's read path."""
    user = post_json(server.url("/api/v1/users"), {"email": "bench@example.com", "name": "Bench"})
    note = post_json(
        server.url("/api/v1/notes"),
        {"owner_id": user["id"], "title": "Benchmark", "body": "A note read by ID."},
    )
    return f"/api/v1/notes/{note['id']}"
