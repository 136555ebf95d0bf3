"""The servers measured: started on a free port, timed to their first 200, stopped."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    health_path: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def wait_until_up(url: str, timeout_s: float = 60) -> float:
    """Seconds until ``url`` first answers 200."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.01)
    msg = f"{url} did not come up within {timeout_s}s"
    raise RuntimeError(msg)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker_pid(server: Server) -> int:
    """The process that serves: the server's own, or its one worker (granian forks one)."""
    pid = server.process.pid  # type: ignore[union-attr]
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if len(children) == 1 else pid


def start(server: Server) -> float:
    """Start ``server``; its cold start (spawn to first 200) in seconds."""
    server.process = subprocess.Popen(
        [*server.command, "--port", str(server.port)],
        cwd=server.cwd,
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return wait_until_up(server.url(server.health_path))


def stop(server: Server) -> None:
    if server.process is not None:
        server.process.terminate()
        server.process.wait(timeout=30)
        server.process = None


@contextlib.contextmanager
def serving(servers: list[Server]) -> Iterator[dict[str, float]]:
    """Start every server; yields each one's cold start in seconds."""
    cold_starts = {}
    try:
        for server in servers:
            cold_starts[server.name] = start(server)
        yield cold_starts
    finally:
        for server in servers:
            stop(server)
