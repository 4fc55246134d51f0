"""PostgreSQL state, shared by several hosts and CI runners: one schema per profile in one
database, the same MIGRATIONS as the SQLite file, transactions as on SQLite. The connection
wrapper is pg_connection.py; the run lock (a session advisory lock held on its own unpooled
connection, freed by the server when the holder dies) is pg_lock.py.

Why a schema per profile rather than a profile column: every query of the store stays the
same text on both databases (no ``AND profile = ?`` that one forgotten query would leak
across), each profile migrates and is copied or dropped on its own, and the advisory lock
key is the schema's. The password never comes from the URL: libpq reads PGPASSWORD and
~/.pgpass, then the keyring (``deskctl auth set pg_password``) is tried.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from deskctl.errors import ConfigError
from deskctl.sqlitefile import StoreError
from deskctl.state import dialect
from deskctl.state.database import Kind
from deskctl.state.pg_connection import PgConnection, driver, quote, rows_by_name
from deskctl.state.pg_lock import HOLDER, PgRunLock
from deskctl.state.schema import MIGRATIONS

MIGRATE_LOCK = 0x64736B6D  # serialises first-time schema creation and migrations
META = "deskctl_meta"  # bookkeeping, not state: never copied (nor is pg_lock's HOLDER)
INTERNAL_TABLES = (META, HOLDER)
PASSWORD_MISSING = ("no password supplied", "password authentication failed")


def check_url(url: str) -> None:
    """Refuse a state URL that carries a password (ValueError says where it belongs)."""
    parts = urlsplit(url)
    if parts.password is not None or "password=" in parts.query:
        raise ValueError("a password does not belong in the state URL: use PGPASSWORD, "
                         "~/.pgpass or 'deskctl auth set pg_password'")
    if not parts.path.strip("/"):
        raise ValueError("the state URL names no database: postgresql://user@host:5432/dbname")


def display(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}{host}{port}{parts.path}"


def schema_for(profile: str) -> str:
    name = f"deskctl_{profile}"
    if len(name.encode()) > 63:
        raise ConfigError(f"profile name {profile!r} is too long for a PostgreSQL schema name")
    return name


class PgDatabase:
    kind: Kind = "postgresql"

    def __init__(self, url: str, profile: str) -> None:
        check_url(url)
        self.url = url
        self.profile = profile
        self.schema = schema_for(profile)
        self.location = f"{display(url)} (schema {self.schema})"
        self.lock_key = zlib.crc32(self.schema.encode()) & 0x7FFFFFFF
        self._conn: PgConnection | None = None
        self._depth = 0
        self.held: PgRunLock | None = None

    def damaged(self, detail: str) -> StoreError:
        return StoreError(f"the state in {self.location} is damaged ({detail}); restore it "
                          "from a backup; 'deskctl state check' reports what is wrong")

    @contextmanager
    def lost_connection(self) -> Iterator[None]:
        """A dropped connection ends the command with one line (exit 1); the transaction
        it interrupted was never committed, so nothing is half-written."""
        psycopg = driver()
        try:
            yield
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"lost the state database {self.location}: {first}") from None

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """Ctrl-C or SIGTERM in the middle of a statement can leave the connection busy;
        drop it (the server rolls back its transaction) so recording the interruption
        works on a fresh one."""
        try:
            yield
        except KeyboardInterrupt:
            if self._conn is not None:
                with suppress(Exception):
                    self._conn.raw.close()
                self._conn = None
            raise

    def connect(self, options: str | None = None) -> Any:
        """A new autocommit connection; tries the keyring's password when the server asks
        for one that PGPASSWORD and ~/.pgpass did not give."""
        psycopg = driver()
        kwargs: dict[str, Any] = {"autocommit": True, "row_factory": rows_by_name,
                                  "application_name": "deskctl"}
        if "connect_timeout" not in self.url:
            kwargs["connect_timeout"] = 10
        if options:
            kwargs.update(options=options, keepalives=1, keepalives_idle=10,
                          keepalives_interval=5, keepalives_count=3)
        try:
            return psycopg.connect(self.url, **kwargs)
        except psycopg.OperationalError as exc:
            text = str(exc)
            if any(m in text for m in PASSWORD_MISSING) and not os.environ.get("PGPASSWORD"):
                from deskctl.credentials import CredentialStore

                password = CredentialStore(self.profile).get("pg_password")
                if password:
                    try:
                        return psycopg.connect(self.url, password=password, **kwargs)
                    except psycopg.OperationalError as again:
                        text = str(again)
            first = text.strip().splitlines()[0] if text.strip() else "connection refused"
            raise StoreError(f"cannot connect to the state database {self.location}: "
                             f"{first}") from None

    @property
    def conn(self) -> PgConnection:
        if self._conn is None:
            raw = self.connect()
            with self.lost_connection():
                raw.execute(f"SET search_path TO {quote(self.schema)}")
                self._migrate(raw)
            self._conn = PgConnection(raw, self)
        return self._conn

    def _version(self, raw: Any) -> int | None:
        if raw.execute("SELECT to_regclass(%s)", (f"{quote(self.schema)}.{META}",)
                       ).fetchone()[0] is None:
            return None
        # qualified: exists() asks on a fresh connection, whose search_path is not ours
        row = raw.execute(f"SELECT value FROM {quote(self.schema)}.{META} "
                          "WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self, raw: Any) -> None:
        """Create the profile's schema on first use and bring it to the newest version, one
        host at a time; refuse a schema written by a newer deskctl."""
        if self._version(raw) == len(MIGRATIONS):
            return
        raw.execute("BEGIN")
        try:
            raw.execute("SELECT pg_advisory_xact_lock(%s, %s)", (MIGRATE_LOCK, self.lock_key))
            raw.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.schema)}")
            raw.execute(f"CREATE TABLE IF NOT EXISTS {META} "
                        "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            raw.execute(f"CREATE TABLE IF NOT EXISTS {HOLDER} (id INTEGER PRIMARY KEY, "
                        "host TEXT NOT NULL, pid INTEGER NOT NULL, started_at TEXT NOT NULL, "
                        "operation TEXT NOT NULL, backend_pid INTEGER NOT NULL)")
            version = self._version(raw) or 0
            if version > len(MIGRATIONS):
                raise StoreError(f"{self.location} has schema version {version}, newer than "
                                 f"this deskctl understands ({len(MIGRATIONS)}); upgrade deskctl")
            for number in range(version, len(MIGRATIONS)):
                for statement in dialect.statements(MIGRATIONS[number]):
                    raw.execute(dialect.ddl(statement))
            raw.execute(f"INSERT INTO {META} (key, value) VALUES ('schema_version', %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (str(len(MIGRATIONS)),))
            raw.execute("COMMIT")
        except BaseException:
            if not raw.closed:
                raw.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.raw.close()
            self._conn = None

    def exists(self) -> bool:
        raw = self.connect()
        try:
            with self.lost_connection():
                return self._version(raw) is not None
        finally:
            raw.close()

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """Like SQLite's: all or nothing, nested calls join. BEGIN and the writes wait in
        the connection (PgConnection) until a read or the COMMIT sends them at once."""
        conn = self.conn
        if self._depth:
            self._depth += 1
            try:
                yield conn
            finally:
                self._depth -= 1
            return
        if self.held is not None:
            self.held.verify()
        raw = conn.raw
        self._depth = 1
        conn.begin()
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.deferring = False
            conn.discard()
            if not raw.closed:
                try:
                    raw.execute("ROLLBACK")
                except driver().Error:  # unusable now: the server rolls back on its own
                    raw.close()
            if raw.closed and self._conn is conn:
                self._conn = None  # the next statement opens a fresh connection
            raise
        finally:
            self._depth = 0

    def schema_version(self) -> int:
        with self.lost_connection():
            return self._version(self.conn.raw) or 0

    def tables(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND "
            "table_type = 'BASE TABLE' ORDER BY table_name", (self.schema,))
        return [r[0] for r in rows if r[0] not in INTERNAL_TABLES]

    def columns(self, table: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND "
            "table_name = ? ORDER BY ordinal_position", (self.schema, table))
        return [r[0] for r in rows]

    def integrity(self) -> list[str]:
        """The server keeps pages consistent; what can be wrong is an index left invalid
        (an interrupted CREATE INDEX CONCURRENTLY or a failed REINDEX)."""
        rows = self.conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ? AND NOT (i.indisvalid AND i.indisready)", (self.schema,))
        return [f"index {r[0]} is invalid: run REINDEX" for r in rows]

    def after_copy(self, table: str) -> None:
        """Move identity counters past the ids just copied in."""
        rows = self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND "
            "table_name = ? AND is_identity = 'YES'", (self.schema, table))
        for (column,) in list(rows):
            qualified = f"{quote(self.schema)}.{quote(table)}"
            self.conn.execute(f"SELECT setval(pg_get_serial_sequence(?, ?), "
                              f"COALESCE(MAX({quote(column)}), 0) + 1, false) "
                              f"FROM {quote(table)}", (qualified, column))

    def run_lock(self, operation: str, timeout: float) -> PgRunLock:
        return PgRunLock(self, operation, timeout)
