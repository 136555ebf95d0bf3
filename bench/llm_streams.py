"""Concurrent LLM streams against the project's provider stub: durations and memory."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from pathlib import Path

from servers import Server, rss_mb, worker_pid

UPSTREAM_LATENCY_S = 0.2
STREAMS = 500

SERVICE_STREAM = (
    "/api/v1/llm/stream",
    json.dumps({"prompt": "Say something."}).encode(),
    b"event: usage",
)
# Reference (c): the same prompt through a bare endpoint on the same SDK.
REFERENCE_STREAM = ("/stream", json.dumps({"prompt": "Say something."}).encode(), b"event: usage")
# The same call, straight to the stub: what the upstream alone takes on this machine.
UPSTREAM_STREAM = (
    "/anthropic/v1/messages",
    json.dumps(
        {
            "model": "claude-haiku-4-5",
            "max_tokens": 1024,
            "stream": True,
            "messages": [{"role": "user", "content": "Say something."}],
        }
    ).encode(),
    b"event: message_stop",
)


async def one_stream(port: int, call: tuple[str, bytes, bytes]) -> float:
    """Seconds from sending the request to the end of its event stream (checked complete)."""
    path, body, last_event = call
    begin = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
        + b"Content-Type: application/json\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    response = await reader.read()
    elapsed = time.perf_counter() - begin
    writer.close()
    if not response.startswith(b"HTTP/1.1 200") or last_event not in response:
        msg = f"a stream failed: {response[:300]!r}"
        raise RuntimeError(msg)
    return elapsed


def cpu_seconds(pid: int) -> float:
    """User and system CPU time ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def stream_burst(
    server: Server, count: int, call: tuple[str, bytes, bytes] = SERVICE_STREAM
) -> tuple[list[float], int, float]:
    """``count`` concurrent streams: their durations, the failures, the peak RSS in MB."""
    pid = worker_pid(server)
    peak = rss_mb(pid)
    done = asyncio.Event()

    async def watch_memory() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb(pid))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch_memory())
    results = await asyncio.gather(
        *(one_stream(server.port, call) for _ in range(count)), return_exceptions=True
    )
    done.set()
    await watcher
    durations = [result for result in results if isinstance(result, float)]
    return durations, count - len(durations), max(peak, rss_mb(pid))


def p99(durations: list[float]) -> float:
    durations = sorted(durations)
    return durations[max(0, int(len(durations) * 0.99) - 1)]


def measure_streams(
    server: Server, stub: Server, count: int, call: tuple[str, bytes, bytes] = SERVICE_STREAM
) -> dict[str, float]:
    pid = worker_pid(server)
    upstream, _, _ = asyncio.run(stream_burst(stub, count, UPSTREAM_STREAM))
    asyncio.run(stream_burst(server, 20, call))  # warm up: connections, imports, caches
    before = rss_mb(pid)
    cpu_before = cpu_seconds(pid)
    durations, failed, peak = asyncio.run(stream_burst(server, count, call))
    time.sleep(1)
    after = rss_mb(pid)
    cpu_per_stream = (cpu_seconds(pid) - cpu_before) / count
    durations.sort()
    return {
        "cpu_ms": cpu_per_stream * 1000,
        "p50": statistics.median(durations),
        "p99": p99(durations),
        "upstream_p99": p99(upstream),
        "max": durations[-1],
        "failed": failed,
        "rss_before": before,
        "rss_peak": peak,
        "rss_after": after,
    }
