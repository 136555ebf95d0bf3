"""The figures' record: bench/RESULTS.md, the misses explained, and the matrix timed."""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
# The whole template suite (bake + lint + type + test of the matrix): the last `.ci/run` from
# a fresh clone, 2 cores.
CI_MATRIX_SECONDS = 999

# Why a target is missed, when it is (kept next to the figures in RESULTS.md).
EXPLANATIONS = {
    "health_live": (
        "measured in process on this machine, bare FastAPI costs about 70 us of CPU per "
        "request and the service about 190 us: the JSON access log "
        "line about 35 us, the edge middleware's own work (timeout, timing, security headers) "
        "about 30 us, the request ID about 15 us, CORS and Prometheus about 10 us each. The "
        "issue's own reference (0.63 for a straightforward pure-ASGI stack of these pieces) "
        "puts 0.75 out of reach on one worker without dropping one of them."
    ),
    "health_live_traced": (
        "OpenTelemetry's ASGI middleware starts, samples (default: parent-based, always on) "
        "and ends a server span per request, setting a dozen attributes, and queues it for "
        "the batch processor: about 250 us of CPU per request in process, more than the rest "
        "of the request. The per-message send and receive spans are already excluded; "
        "OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG samples "
        "fewer requests where that matters."
    ),
    "read_by_id_sqlite": (
        "aiosqlite runs every DB-API call on a thread: the ORM's cursor, execute, fetch and "
        "close and the closing rollback are five thread hops per read (the commit of a "
        "read-only request is now skipped), each a wake-up and a GIL hand-over."
    ),
    "read_by_id_postgresql": (
        "a read takes four round trips: the pool's pre-ping (kept: a restarted database then "
        "costs no failed request), BEGIN, the SELECT and the closing ROLLBACK, with asyncpg "
        "and the ORM's Python work around each; the PostgreSQL server shares the two cores."
    ),
    "llm_stream_p99_vs_upstream": (
        "the service is CPU-bound at a few milliseconds of Python per stream (the Anthropic "
        "SDK building the request and parsing the events, httpcore's pool, whose request "
        "assignment grows with the open requests, re-encoding the events, one usage row and "
        "one log line per call), so 500 streams queue on one event loop; the stub itself, "
        "a Python process on the same cores, adds to its 200 ms under that burst."
    ),
}


def run_matrix() -> list[str]:
    """Bake, lint, type-check and test every combination; wall time in total and per bake."""
    begin = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_bake.py", "--durations=0", "-q"],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    total = time.perf_counter() - begin
    per_test: dict[str, float] = {}
    for seconds, test in re.findall(r"^([\d.]+)s \w+\s+tests/test_bake.py::(\S+)", output, re.M):
        per_test[test] = per_test.get(test, 0.0) + float(seconds)
    lines = [f"template_matrix: {total:.0f} s wall time, {len(per_test)} bakes"]
    lines += [f"  {seconds:7.1f} s  {test}" for test, seconds in sorted(per_test.items())]
    return lines


def write_results(lines: list[str], missed: list[str], args: argparse.Namespace, tool: str) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    flags = "".join(f" --{flag}" for flag in ("quick", "matrix") if getattr(args, flag))
    header = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}),",
        f"Python {platform.python_version()}, load by {tool}, one uvicorn worker per server.",
        f"Command: `uv run python bench/run.py{flags}`"
        f" ({args.rounds} interleaved rounds of {args.seconds}s, {args.connections} connections).",
        "Throughput ratios are requests per second against bare FastAPI serving `GET /ping`",
        "(median of the per-round ratios), target: at least. The stream ratio is the p99",
        "duration of a whole stream against the upstream latency, target: at most.",
        "",
        "```",
        *lines,
        "```",
    ]
    if missed:
        header += ["", "## Targets missed", ""]
        header += [f"- `{name}`: {EXPLANATIONS[name]}" for name in missed]
    RESULTS.write_text("\n".join(header) + "\n")


def ratio_line(name: str, ratio: float, goal: float | None) -> str:
    target = f" (target {goal:.2f})" if goal is not None else ""
    return f"{name}: ratio {ratio:.2f}{target}"
