"""No request makes a log line expensive, and no failed request's log line shows a secret.

Redaction takes time linear in the text it is given, and is given at most
``LOG_MAX_VALUE_CHARS`` characters of any value; tracebacks are plain text without
local variables, in the console format as in JSON.
"""

import subprocess
import sys

import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.logging import REDACTED, Redactor
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve

PASSWORD = "zq correct horse battery staple"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ6cSJ9.c2lnbmF0dXJlLW9mLXRoZS16cS10b2tlbg"
API_KEY = "ak_0123456789abcdef.zqc2VjcmV0LXBhcnQtb2YtdGhlLWtleS0xMjM0NTY3ODk"
PROVIDER_KEY = "sk-ant-api03-zqProviderKey0123456789abcdefghijklmnopqrstuvwxyz"
SECRETS = [PASSWORD, JWT, API_KEY.split(".")[1], PROVIDER_KEY, "zq-person"]

# Texts that made a backtracking pattern take time quadratic in their length, each
# about 200 KB (60 KB took a quadratic pattern 32 s); redacted in a child process
# that is killed if it takes too long.
LINEAR_IN_ITS_INPUT = """
from {{ cookiecutter.package_name }}.core.logging import Redactor

n = 200_000
hostile = [
    "/x@" + "b" * n,
    "a." * (n // 2) + "@",
    "a@" * (n // 2),
    "@" + "b-" * (n // 2),
    "x@" + "b" * n + ".",
    "eyJ-" * (n // 4) + ".",
    "eyJa." * (n // 5),
    "Bearer" + " " * n,
    "ab_" + "0" * n + ".",
    "sk-" * (n // 3),
    "ab_0123456789." * (n // 14),
]
redact = Redactor(max_chars=2 * n)
for text in hostile:
    redact(None, "info", {"value": text})
print("done")
"""


def test_redaction_takes_time_linear_in_its_input() -> None:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", LINEAR_IN_ITS_INPUT],
        capture_output=True,
        text=True,
        timeout=60,  # linear: a fraction of a second; quadratic: minutes
        check=True,
    )

    assert result.stdout.strip() == "done"


def test_long_values_are_cut_before_redaction() -> None:
    redact = Redactor(max_chars=1000)

    event = redact(None, "info", {"path": "/x@" + "b" * 1_000_000, "n": 7})

    assert event["n"] == 7
    assert len(event["path"]) < 1000 + 30
    assert event["path"].endswith("more characters]")


@pytest.mark.parametrize("secret", [JWT, API_KEY, PROVIDER_KEY, "zq-person@example.com"])
def test_a_secret_cut_in_two_leaves_no_part_of_it(secret: str) -> None:
    text = "x" * 60 + " " + secret + " and more"

    for cut in range(1, len(secret)):
        logged = Redactor(max_chars=61 + cut)(None, "info", {"detail": text})["detail"]

        assert logged == "x" * 60 + f" [{len(text) - 61} more characters]", cut


def failing_app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    def call_provider(api_key: str, token: str, password: str, service_key: str) -> None:
        """Fails with credentials in its local variables, and some in its message."""
        msg = f"provider refused key {api_key} and Bearer {token} for zq-person@example.com"
        raise RuntimeError(msg)

    @app.get("/fail")
    async def fail() -> None:
        credentials = {"api_key": PROVIDER_KEY, "token": JWT, "password": PASSWORD}
        call_provider(**credentials, service_key=API_KEY)

    return app


@pytest.mark.parametrize("log_json", [False, True], ids=["console", "json"])
async def test_a_failed_request_logs_its_traceback_without_locals_or_secrets(
    settings: Settings, serve: Serve, capsys: pytest.CaptureFixture[str], log_json: bool
) -> None:
    app = failing_app(settings.model_copy(update={"log_json": log_json}))
    async with serve(app) as client:
        response = await client.get("/fail")

    output = capsys.readouterr().out
    assert response.status_code == 500
    assert "Traceback" in output
    assert "RuntimeError" in output
    assert "provider refused key" in output
    assert REDACTED in output
    leaked = [secret for secret in SECRETS if secret in output]
    assert not leaked, f"the log shows {leaked}"
    assert "credentials =" not in output
