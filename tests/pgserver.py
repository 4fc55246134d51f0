"""A real PostgreSQL server for the test session: initdb in a temporary folder, started on a
free loopback port with trust authentication, stopped at the end.

PostgreSQL refuses to run as root, so under root the server runs as the ``postgres`` system
user. Without the binaries (or psycopg) the PostgreSQL tests are skipped, unless
DESKCTL_REQUIRE_POSTGRES=1 (set by .ci/run), which makes that a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

PASSWORD_ROLE = "deskctl_pw"
CANDIDATES = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/local/bin", "/usr/bin")


def find_bindir() -> Path | None:
    if os.environ.get("DESKCTL_PG_BIN"):
        return Path(os.environ["DESKCTL_PG_BIN"])
    for pattern in CANDIDATES:
        for folder in sorted(glob.glob(pattern), reverse=True):  # newest version first
            if all(os.access(os.path.join(folder, b), os.X_OK)
                   for b in ("initdb", "pg_ctl", "postgres")):
                return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="deskctl-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.port = free_port()
        self.user: str | None = "postgres" if os.geteuid() == 0 else None
        self.counter = 0

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            log = self.root / "server.log"
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()}\n"
                               + (log.read_text() if log.exists() else ""))

    def start(self) -> None:
        self.sockets.mkdir()
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in (self.root, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        # trust for tests, except one role that must give a password (the keyring test)
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n")
        # fsync off: the tests kill clients, never the server
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        self.counter += 1
        name = f"t{os.getpid()}_{self.counter}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)


def schema_at(url: str, version: int, profile: str = "default") -> Any:
    """A profile's schema as the deskctl of state schema ``version`` left it; returns an
    open autocommit connection to it (search_path set) for the caller's rows."""
    import psycopg

    from deskctl.state import dialect
    from deskctl.state.schema import MIGRATIONS

    conn = psycopg.connect(url, autocommit=True)
    conn.execute(f"CREATE SCHEMA deskctl_{profile}")
    conn.execute(f"SET search_path TO deskctl_{profile}")
    conn.execute("CREATE TABLE deskctl_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for migration in MIGRATIONS[:version]:
        for statement in dialect.statements(migration):
            conn.execute(dialect.ddl(statement))
    conn.execute("INSERT INTO deskctl_meta VALUES ('schema_version', %s)", (str(version),))
    return conn
