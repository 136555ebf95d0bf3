"""Load on one route: requests per second and p99 latency, from wrk or from Python."""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import time
from dataclasses import dataclass, field

from servers import Server


@dataclass
class Target:
    name: str
    server: Server
    path: str
    goal: float | None
    # Its reference (the same behaviour on this stack, written as simply as it can be),
    # and the share of the reference's throughput it must reach.
    reference: Target | None = None
    reference_goal: float | None = None
    rps: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    reference_ratios: list[float] = field(default_factory=list)


def load_with_wrk(url: str, seconds: int, connections: int) -> tuple[float, float]:
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output:
        msg = f"{url} answered errors under load:\n{output}"
        raise RuntimeError(msg)
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
            begin = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                msg = f"{url} answered {head.splitlines()[0]!r} under load"
                raise RuntimeError(msg)
            length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - begin)
        writer.close()

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(client(deadline) for _ in range(connections)))

    asyncio.run(main())
    return len(latencies) / seconds, statistics.quantiles(latencies, n=100)[98] * 1000
