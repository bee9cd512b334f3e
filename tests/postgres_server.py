"""A PostgreSQL server of the tests' own: initdb in a temporary directory, `postgres` on a free
loopback port, stopped at the end. Debian's `postgresql` package provides the binaries (in
/usr/lib/postgresql/<version>/bin, not on PATH); PostgreSQL refuses to run as root, so as root the
server runs as the package's `postgres` user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def binaries() -> Path | None:
    """The folder holding initdb and postgres, or None."""
    found = shutil.which("initdb")
    if found and (Path(found).resolve().parent / "postgres").exists():
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    folder: Path
    port: int
    process: subprocess.Popen[bytes]
    databases: list[str] = field(default_factory=list)

    @classmethod
    def start(cls) -> Postgres:
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        folder = Path(tempfile.mkdtemp(prefix="inbox-ocr-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse root
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        data = folder / "data"
        subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "inbox",
                        "--encoding", "UTF8", "--no-locale"], check=True, capture_output=True, timeout=120)
        port = _free_port()
        log = open(folder / "postgres.log", "wb")  # noqa: SIM115 (kept open for the server's life)
        process = subprocess.Popen(
            [*as_user, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(folder),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        server = cls(folder, port, process)
        server._wait_ready()
        return server

    def _wait_ready(self, timeout: float = 60.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.folder / "postgres.log").read_text()[-2000:]
                    raise RuntimeError(f"PostgreSQL did not start: {log}") from exc
                time.sleep(0.2)

    def url(self, database: str) -> str:
        return f"postgresql://inbox@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return self.url(name)

    def restart(self) -> None:
        """Stop the server (fast shutdown: connections are cut) and start it again on the same port."""
        args = self.process.args
        self.stop()
        log = open(self.folder / "postgres.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # "fast" shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
