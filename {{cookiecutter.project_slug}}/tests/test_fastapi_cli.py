"""``fastapi run`` and ``fastapi dev`` find the app: the entry point pyproject.toml names."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_fastapi_run_serves_the_app_pyproject_names() -> None:
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
{% if cookiecutter.llm != "none" %}
        "LLM_PROVIDERS": '["fake"]',
{% endif %}
{% if cookiecutter.observability == "yes" %}
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
{% endif %}
    }
    command = [sys.executable, "-m", "fastapi", "run", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603
        command, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    response = None
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while response is None and server.poll() is None and time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1)
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        server.terminate()
        output = server.communicate(timeout=STARTUP_SECONDS)[0].decode()

    assert response is not None, output
    assert response.status_code == 200
    assert "Using import string: {{ cookiecutter.package_name }}.asgi:app" in output
