"""A throwaway PostgreSQL server in a temp folder, for tests, benchmarks and local trials.

The store's tests and benchmark must run against a real PostgreSQL without a system service:
this starts one from the server binaries (``/usr/lib/postgresql/15/bin`` on the machine image)
on a free localhost port, with trust auth and its socket in its own folder. PostgreSQL refuses
to run as root, so under root it runs as the ``postgres`` user through ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flowloop.errors import StoreError

DEFAULT_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class TempPostgres:
    """A running server; ``url`` names its ``postgres`` database (SQLAlchemy + psycopg 3)."""

    url: str
    port: int
    folder: Path
    _prefix: list[str]
    _bin: Path

    def stop(self) -> None:
        subprocess.run(
            [*self._prefix, str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "TempPostgres":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_temp_postgres(bin_dir: Path = DEFAULT_BIN, durable: bool = True) -> TempPostgres:
    """Start a server; ``durable=False`` turns off fsync (tests only). Raises StoreError if it cannot."""
    if not (bin_dir / "initdb").is_file():
        raise StoreError("PostgreSQL server binaries not found", path=bin_dir, hint="install postgresql-15")
    prefix: list[str] = []
    owner: int | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres").pw_uid
        except KeyError as exc:
            raise StoreError("running as root and there is no 'postgres' user to run the server") from exc
        runuser = shutil.which("runuser")
        if runuser is None:
            raise StoreError("running as root and `runuser` is missing")
        prefix = [runuser, "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="flow-pg-"))
    if owner is not None:
        os.chown(folder, owner, -1)
    port = _free_port()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    steps = [
        [str(bin_dir / "initdb"), "-D", str(folder / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
        [str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "log"), "-w", "-o", options, "start"],
    ]
    for step in steps:
        done = subprocess.run([*prefix, *step], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = (folder / "log").read_text(errors="replace")[-2000:] if (folder / "log").exists() else ""
            shutil.rmtree(folder, ignore_errors=True)
            raise StoreError(f"{Path(step[0]).name} failed: {done.stderr.strip() or done.stdout.strip()} {log}".strip())
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    return TempPostgres(url=url, port=port, folder=folder, _prefix=prefix, _bin=bin_dir)
