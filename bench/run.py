"""Benchmark a generated service against bare FastAPI on this machine.

Bakes a project, serves it and a bare FastAPI app with the same server and one
worker each, and loads them alternately (interleaved rounds, so that a noisy
machine slows every contender alike) with ``wrk`` when it is installed, else with
a small Python load generator. Prints one line per figure and rewrites
``bench/RESULTS.md``.

    uv run python bench/run.py            # all figures, about five minutes
    uv run python bench/run.py --quick    # one short round, to try it out
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
UV = str(Path(sys.executable).with_name("uv"))

BASELINE_APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}
"""

# The full-option bake whose hot paths are measured.
ANSWERS = {
    "project_name": "Bench Service",
    "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
    "database": "sqlite",
    "auth": "none",
    "llm": "none",
    "redis": "no",
    "observability": "no",
    "docker": "no",
    "ci": "none",
}


@dataclass
class Server:
    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    health_path: str
    port: int = field(default_factory=lambda: free_port())
    process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@dataclass
class Target:
    name: str
    server: Server
    path: str
    goal: float | None
    rps: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, timeout_s: float = 60) -> float:
    """Seconds until ``url`` first answers 200."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.02)
    msg = f"{url} did not come up within {timeout_s}s"
    raise RuntimeError(msg)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def serving(servers: list[Server]) -> Iterator[dict[str, float]]:
    """Start every server; yields each one's cold start (spawn to first 200) in seconds."""
    cold_starts = {}
    try:
        for server in servers:
            server.process = subprocess.Popen(
                [*server.command, "--port", str(server.port)],
                cwd=server.cwd,
                env=server.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            cold_starts[server.name] = wait_until_up(server.url(server.health_path))
        yield cold_starts
    finally:
        for server in servers:
            if server.process is not None:
                server.process.terminate()
                server.process.wait(timeout=30)


def load_with_wrk(url: str, seconds: int, connections: int) -> tuple[float, float]:
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99_ms


def load_with_python(url: str, seconds: int, connections: int) -> tuple[float, float]:
    """Fallback load generator: keep-alive HTTP/1.1 clients on raw asyncio streams."""
    host, port_path = url.removeprefix("http://").split(":", 1)
    port, path = port_path.split("/", 1)
    request = f"GET /{path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    latencies: list[float] = []

    async def client(deadline: float) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
        writer.close()

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(client(deadline) for _ in range(connections)))

    asyncio.run(main())
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    return len(latencies) / seconds, p99


def bake(workdir: Path) -> Path:
    with contextlib.redirect_stdout(None):
        project = Path(
            cookiecutter(
                str(TEMPLATE_ROOT), no_input=True, extra_context=ANSWERS, output_dir=str(workdir)
            )
        )
    subprocess.run(
        [UV, "sync", "--quiet", "--no-dev"],
        cwd=project,
        env={**os.environ, "UV_PYTHON": sys.executable},
        check=True,
    )
    (project / "bench_baseline.py").write_text(BASELINE_APP)
    return project


def servers_for(project: Path) -> tuple[Server, Server]:
    python = str(project / ".venv" / "bin" / "python")
    uvicorn = [python, "-m", "uvicorn", "--no-access-log", "--log-level", "warning"]
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "LOG_JSON": "true",
        "DATABASE_URL": f"sqlite+aiosqlite:///{project / 'bench.db'}",
    }
    package = ANSWERS["project_name"].lower().replace(" ", "_")
    baseline = Server("baseline", [*uvicorn, "bench_baseline:app"], project, env, "/ping")
    service = Server(
        "service",
        [*uvicorn, "--factory", f"{package}.main:create_app"],
        project,
        env,
        "/health/live",
    )
    return baseline, service


def write_results(lines: list[str], args: argparse.Namespace, tool: str) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    header = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}),",
        f"Python {platform.python_version()}, load by {tool}, one uvicorn worker per server.",
        f"Command: `uv run python bench/run.py{' --quick' if args.quick else ''}`"
        f" ({args.rounds} interleaved rounds of {args.seconds}s, {args.connections} connections).",
        "Ratios are requests per second against bare FastAPI serving `GET /ping`.",
        "",
        "```",
        *lines,
        "```",
    ]
    RESULTS.write_text("\n".join(header) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="one round of two seconds")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 2
    load = load_with_wrk if shutil.which("wrk") else load_with_python
    tool = (
        "wrk" if shutil.which("wrk") else "a Python load generator (install wrk for better figures)"
    )

    with tempfile.TemporaryDirectory() as workdir:
        project = bake(Path(workdir))
        baseline_server, service_server = servers_for(project)
        targets = [
            Target("baseline_ping", baseline_server, "/ping", None),
            Target("health_live", service_server, "/health/live", 0.75),
        ]
        with serving([baseline_server, service_server]) as cold_starts:
            for target in targets:  # warm up
                load(target.server.url(target.path), 1, args.connections)
            for _ in range(args.rounds):
                for target in targets:
                    rps, p99 = load(target.server.url(target.path), args.seconds, args.connections)
                    target.rps.append(rps)
                    target.p99_ms.append(p99)
            service_rss = rss_mb(service_server.process.pid)  # type: ignore[union-attr]

    baseline_rps = statistics.median(targets[0].rps)
    lines = []
    for target in targets:
        rps = statistics.median(target.rps)
        p99 = statistics.median(target.p99_ms)
        goal = f" (target {target.goal:.2f})" if target.goal is not None else ""
        lines.append(f"{target.name}: ratio {rps / baseline_rps:.2f}{goal}")
        lines.append(f"{target.name}_rps: {rps:.0f} req/s, p99 {p99:.1f} ms")
    lines.append(f"cold_start: {cold_starts['service']:.2f} s (process spawn to first 200)")
    lines.append(f"resident_memory: {service_rss:.0f} MB after the load")
    print("\n".join(lines))
    write_results(lines, args, tool)


if __name__ == "__main__":
    main()
