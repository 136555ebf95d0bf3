"""Benchmark a generated service against bare FastAPI on this machine.

Bakes the full-option project (no authentication, so that its read route needs
no credentials), then, with the same server (uvicorn) and one worker each:

- loads bare FastAPI ``GET /ping`` (the baseline), the service's ``/health/live``
  with its middleware on (CORS, request ID, timing, JSON access log, Prometheus
  metrics), the same with OpenTelemetry tracing on (spans are exported in
  process to nowhere, so no network I/O is measured), and the read-by-ID route
  ``GET /api/v1/notes/{id}`` on SQLite and on PostgreSQL; in interleaved rounds,
  so that a noisy machine slows every contender alike. Load comes from ``wrk``
  when it is installed, else from a small Python load generator. Beside them, the
  references that show the limit of this stack: (a) the same middleware behaviour
  as one minimal pure-ASGI layer around bare FastAPI, (b) a bare async-SQLAlchemy
  read by primary key on each database;
- opens 500 concurrent LLM streams against the project's own provider stub
  (``tests/llm/stub.py``, served in its own process with a fixed upstream latency),
  through the service and through (c) a bare endpoint that streams through the same
  SDK and re-emits the text as SSE, in interleaved rounds: p99 and CPU per stream
  against (c);
- serves bare FastAPI and the service under granian too, beside uvicorn (issue 18's
  trial of it as the production server): the ``_granian`` figures;
- times cold starts (process spawn to first 200) and reads resident memory.

Prints one line per figure and rewrites ``bench/RESULTS.md`` (all but the section of
``bench/rag.py``, which measures retrieval: ``uv run python bench/rag.py [--quick]``).

    uv run python bench/run.py            # every figure, about five minutes
    uv run python bench/run.py --quick    # one short round, to try it out
    uv run python bench/run.py --matrix   # also the template's own matrix (hours)

PostgreSQL is used when it answers at ``BENCH_POSTGRES_URL`` (default
``postgresql+asyncpg://root@127.0.0.1:5432/postgres``); a scratch database is
created there and dropped afterwards. Without it, that figure is skipped.

This file runs the rounds; the modules beside it (imported by name: the script's
folder is first on ``sys.path``) hold the rest: ``measured_service`` (the bake, its
extra apps, databases and servers), ``servers`` (start, time, stop), ``load`` (wrk or
Python), ``llm_streams`` and ``results`` (``RESULTS.md`` and the matrix).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from llm_streams import (
    REFERENCE_STREAM,
    SERVICE_STREAM,
    STREAMS,
    UPSTREAM_LATENCY_S,
    measure_streams,
)
from load import Target, load_with_python, load_with_wrk
from measured_service import (
    POSTGRES_URL,
    bake_bench_project,
    migrate,
    scratch_postgres,
    seed_note,
    servers_for,
)
from results import CI_MATRIX_SECONDS, TEMPLATE_ROOT, ratio_line, run_matrix, write_results
from servers import rss_mb, serving, start, stop, worker_pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--streams", type=int, default=STREAMS)
    parser.add_argument("--quick", action="store_true", help="one round of two seconds")
    parser.add_argument(
        "--template",
        type=Path,
        default=TEMPLATE_ROOT,
        help="bake this checkout of the template instead (to compare two versions)",
    )
    parser.add_argument(
        "--matrix", action="store_true", help="also time the template's matrix (takes hours)"
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 2
    load: Callable[[str, int, int], tuple[float, float]]
    if shutil.which("wrk"):
        load, tool = load_with_wrk, "wrk"
    else:
        load, tool = load_with_python, "a Python load generator (install wrk for better figures)"

    lines: list[str] = []
    missed: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory() as workdir:
        project = bake_bench_project(args.template, Path(workdir))
        migrate(project, f"sqlite+aiosqlite:///{project / 'bench.db'}")
        with scratch_postgres(project) as postgres_url:
            servers = servers_for(project, postgres_url)
            with serving(list(servers.values())) as cold_starts:
                note = seed_note(servers["service"])
                middleware = Target(
                    "reference_middleware", servers["reference_middleware"], "/health/live", None
                )
                read_sqlite = Target(
                    "reference_read_sqlite",
                    servers["reference_read_sqlite"],
                    note.removeprefix("/api/v1"),
                    None,
                )
                targets = [
                    Target("baseline_ping", servers["baseline"], "/ping", None),
                    middleware,
                    Target("health_live", servers["service"], "/health/live", 0.75, middleware),
                    Target("health_live_traced", servers["traced"], "/health/live", 0.40),
                    read_sqlite,
                    Target("read_by_id_sqlite", servers["service"], note, 0.12, read_sqlite, 1.5),
                    # The same app under granian, against bare FastAPI under granian.
                    baseline_granian := Target(
                        "baseline_ping_granian", servers["baseline_granian"], "/ping", None
                    ),
                    Target(
                        "health_live_granian",
                        servers["service_granian"],
                        "/health/live",
                        None,
                        baseline_granian,
                    ),
                    Target(
                        "read_by_id_sqlite_granian",
                        servers["service_granian"],
                        note,
                        None,
                        read_sqlite,
                    ),
                ]
                if "postgres" in servers:
                    path = seed_note(servers["postgres"])
                    read_postgresql = Target(
                        "reference_read_postgresql",
                        servers["reference_read_postgresql"],
                        path.removeprefix("/api/v1"),
                        None,
                    )
                    targets.append(read_postgresql)
                    targets.append(
                        Target(
                            "read_by_id_postgresql",
                            servers["postgres"],
                            path,
                            0.12,
                            read_postgresql,
                            1.5,
                        )
                    )
                for target in targets:  # warm up
                    load(target.server.url(target.path), 1, args.connections)
                for _ in range(args.rounds):
                    for target in targets:
                        rps, p99_ms = load(
                            target.server.url(target.path), args.seconds, args.connections
                        )
                        target.rps.append(rps)
                        target.p99_ms.append(p99_ms)
                        target.ratios.append(rps / targets[0].rps[-1])
                        if target.reference is not None:
                            target.reference_ratios.append(rps / target.reference.rps[-1])
                for target in targets:
                    ratio = statistics.median(target.ratios)
                    line = ratio_line(target.name, ratio, target.goal)
                    missed_goal = target.goal is not None and ratio < target.goal
                    if target.reference is not None:
                        against = statistics.median(target.reference_ratios)
                        line += f"; {against:.2f} of {target.reference.name}"
                        if target.reference_goal is not None:
                            line += f" (target {target.reference_goal:.2f})"
                            missed_goal = missed_goal or against < target.reference_goal
                    report(line)
                    report(
                        f"  {target.name}: {statistics.median(target.rps):.0f} req/s,"
                        f" p99 {statistics.median(target.p99_ms):.1f} ms"
                    )
                    if missed_goal:
                        missed.append(target.name)
                if "postgres" not in servers:
                    report(f"read_by_id_postgresql: skipped (no PostgreSQL at {POSTGRES_URL})")
                service = servers["service"]
                rss_after_load = rss_mb(worker_pid(service))

                # Streams in interleaved rounds too: one burst each varies by a third.
                contenders = {
                    "reference_stream": (servers["reference_stream"], REFERENCE_STREAM),
                    "llm_stream": (service, SERVICE_STREAM),
                    "llm_stream_granian": (servers["service_granian"], SERVICE_STREAM),
                }
                rounds: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
                for _ in range(args.rounds):
                    for name, (server, call) in contenders.items():
                        rounds[name].append(
                            measure_streams(server, servers["stub"], args.streams, call)
                        )

                def stream_ratio(name: str, figure: str) -> float:
                    pairs = zip(rounds[name], rounds["reference_stream"], strict=True)
                    return statistics.median(mine[figure] / ref[figure] for mine, ref in pairs)

                p99_ratio = stream_ratio("llm_stream", "p99")
                cpu_ratio = stream_ratio("llm_stream", "cpu_ms")
                report(ratio_line("llm_stream_p99_vs_reference", p99_ratio, 1.2))
                report(ratio_line("llm_stream_cpu_vs_reference", cpu_ratio, 1.3))
                for figure, label in (("p99", "p99"), ("cpu_ms", "cpu")):
                    report(
                        ratio_line(
                            f"llm_stream_granian_{label}_vs_reference",
                            stream_ratio("llm_stream_granian", figure),
                            None,
                        )
                    )
                for name, measured in rounds.items():
                    figures = {
                        key: statistics.median(burst[key] for burst in measured)
                        for key in measured[0]
                    }
                    report(
                        f"  {name}: {args.streams} concurrent streams, upstream latency"
                        f" {UPSTREAM_LATENCY_S * 1000:.0f} ms (medians of {args.rounds}):"
                        f" p50 {figures['p50'] * 1000:.0f} ms,"
                        f" p99 {figures['p99'] * 1000:.0f} ms, max {figures['max'] * 1000:.0f} ms,"
                        f" {figures['failed']:.0f} failed, {figures['cpu_ms']:.1f} ms of CPU per"
                        f" stream; the stub alone: p99 {figures['upstream_p99'] * 1000:.0f} ms"
                    )
                first, streams = rounds["llm_stream"][0], rounds["llm_stream"][-1]
                report(
                    f"  llm_stream_memory: {first['rss_before']:.0f} MB before the first round,"
                    f" {streams['rss_before']:.0f} MB before the last,"
                    f" peak +{streams['rss_peak'] - streams['rss_before']:.0f} MB,"
                    f" +{streams['rss_after'] - streams['rss_before']:.0f} MB after"
                )
                if p99_ratio > 1.2 or any(burst["failed"] for burst in rounds["llm_stream"]):
                    missed.append("llm_stream_p99_vs_reference")
                if cpu_ratio > 1.3:
                    missed.append("llm_stream_cpu_vs_reference")

            # Cold starts of the full-option app alone on the machine (median of three).
            service_starts = [cold_starts["service"]]
            for _ in range(2 if not args.quick else 0):
                service_starts.append(start(service))
                stop(service)
            report(
                f"cold_start: {statistics.median(service_starts):.2f} s"
                " (full-option app, process spawn to first 200)"
            )
            report(f"resident_memory: {rss_after_load:.0f} MB (full-option app, after the load)")

    if args.matrix:
        for line in run_matrix():
            report(line)
    else:
        report(
            f"template_matrix: {CI_MATRIX_SECONDS} s for the whole template suite in CI on 2 cores"
            " (not measured here: pass --matrix)"
        )
    if args.template == TEMPLATE_ROOT:
        write_results(lines, missed, args, tool)


if __name__ == "__main__":
    main()
