"""PostgreSQL state, shared by several hosts and CI runners: one schema per profile in one
database, the same MIGRATIONS as the SQLite file, and the run lock as a session advisory
lock held on its own unpooled connection (the server frees it when the holder dies).

Why a schema per profile rather than a profile column: every query of the store stays the
same text on both databases (no ``AND profile = ?`` that one forgotten query would leak
across), each profile migrates and is copied or dropped on its own, and the advisory lock
key is the schema's. The password never comes from the URL: libpq reads PGPASSWORD and
~/.pgpass, then the keyring (``deskctl auth set pg_password``) is tried.
"""

from __future__ import annotations

import os
import socket
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from deskctl import clock
from deskctl.errors import ConfigError, LockHeld
from deskctl.sqlitefile import StoreError
from deskctl.state import dialect
from deskctl.state.database import Kind
from deskctl.state.lock import held_message
from deskctl.state.schema import MIGRATIONS

RUN_LOCK = 0x64736B72  # first key of the run lock ('dskr'); the second is the schema's
MIGRATE_LOCK = 0x64736B6D  # serialises first-time schema creation and migrations
META, HOLDER = "deskctl_meta", "deskctl_lock"  # bookkeeping, not state: never copied
INTERNAL_TABLES = (META, HOLDER)
LOCK_CHECK_SECONDS = 2.0
# The server drops a partitioned holder's session (and its lock) after about 25 s.
LOCK_SESSION = ("-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 "
                "-c tcp_keepalives_count=3 -c tcp_user_timeout=25000 "
                "-c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0")
PASSWORD_MISSING = ("no password supplied", "password authentication failed")
INSTALL_HINT = ("the state is on PostgreSQL but its driver is not installed: "
                "pip install 'deskctl[postgres]'")


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return psycopg


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


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Row(tuple):
    """A result row readable by column name and by position, like sqlite3.Row."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _rows(cursor: Any) -> Any:
    if cursor.description is None:
        return tuple
    return _row_class(tuple(c.name for c in cursor.description))


class _Deferred:
    """What a write inside a transaction returns: it is sent with the next read or the
    commit, so nothing about its result can be asked."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a write inside a PostgreSQL state transaction is sent at "
                           f"commit; its {name} is not available (use RETURNING)")


DEFERRED = _Deferred()
FLUSH_AT = 2000  # statements held before they are sent anyway
ANALYZE_AFTER = 2000  # rows written to a table before its statistics are refreshed


class PgConnection:
    """The part of a DB-API connection the store uses, with ``?`` placeholders.

    Inside a transaction, writes whose result nobody reads (INSERT/UPDATE/DELETE without
    RETURNING) are rendered with their values and sent together, as one multi-statement
    message with the next read or the COMMIT: a batch of a thousand writes costs one round
    trip instead of a thousand. Statements keep their order; an error still fails the
    transaction as a whole."""

    def __init__(self, raw: Any, db: PgDatabase) -> None:
        self.raw = raw
        self._db = db
        self._render = _driver().ClientCursor(raw)
        self._queue: list[str] = []
        self._changed: dict[str, int] = {}  # rows written per table since its last ANALYZE
        self.deferring = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        query = dialect.query(sql)
        if self.deferring and dialect.is_plain_write(sql):
            self._defer(query, [params])
            return DEFERRED
        self.flush()
        with self._db.lost_connection(), self._db.interruptible():
            return self.raw.execute(query, tuple(params))

    def executemany(self, sql: str, seq: Any) -> Any:
        query = dialect.query(sql)
        if self.deferring and dialect.is_plain_write(sql):
            self._defer(query, seq)
            return DEFERRED
        self.flush()
        with self._db.lost_connection(), self._db.interruptible():
            cursor = self.raw.cursor()
            cursor.executemany(query, [tuple(p) for p in seq])
            return cursor

    def _defer(self, query: str, seq: Any) -> None:
        table = dialect.written_table(query)
        with self._db.lost_connection():
            for params in seq:
                self._queue.append(self._render.mogrify(query, tuple(params)))
                self._changed[table] = self._changed.get(table, 0) + 1
        if len(self._queue) >= FLUSH_AT:
            self.flush()

    def flush(self, then: str = "") -> None:
        """Send the held writes (and ``then``, e.g. COMMIT) in one message."""
        if then:
            self._queue.append(then)
        if not self._queue:
            return
        text, self._queue = ";\n".join(self._queue), []
        with self._db.lost_connection(), self._db.interruptible():
            self.raw.execute(text, prepare=False)  # no parameters: the simple protocol

    def begin(self) -> None:
        self._queue, self.deferring = ["BEGIN"], True

    def commit(self) -> None:
        self.deferring = False
        if self._queue == ["BEGIN"]:  # nothing was written or read: nothing to send
            self._queue = []
            return
        self.flush(then="COMMIT")
        # A first sync fills tables faster than autovacuum looks at them; without fresh
        # statistics the planner scans whole tables for the run's next key lookups.
        stale = [t for t, n in self._changed.items() if t and n >= ANALYZE_AFTER]
        if stale:
            with self._db.lost_connection(), self._db.interruptible():
                self.raw.execute("ANALYZE " + ", ".join(_quote(t) for t in stale))
            for table in stale:
                del self._changed[table]

    def discard(self) -> None:
        self._queue = []


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
        psycopg = _driver()
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
        psycopg = _driver()
        kwargs: dict[str, Any] = {"autocommit": True, "row_factory": _rows,
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
                raw.execute(f"SET search_path TO {_quote(self.schema)}")
                self._migrate(raw)
            self._conn = PgConnection(raw, self)
        return self._conn

    def _version(self, raw: Any) -> int | None:
        if raw.execute("SELECT to_regclass(%s)", (f"{_quote(self.schema)}.{META}",)
                       ).fetchone()[0] is None:
            return None
        row = raw.execute(f"SELECT value FROM {META} WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self, raw: Any) -> None:
        """Create the profile's schema on first use and bring it to the newest version, one
        host at a time; refuse a schema written by a newer deskctl."""
        if self._version(raw) == len(MIGRATIONS):
            return
        raw.execute("BEGIN")
        try:
            raw.execute("SELECT pg_advisory_xact_lock(%s, %s)", (MIGRATE_LOCK, self.lock_key))
            raw.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(self.schema)}")
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
                except _driver().Error:  # unusable now: the server rolls back on its own
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
            qualified = f"{_quote(self.schema)}.{_quote(table)}"
            self.conn.execute(f"SELECT setval(pg_get_serial_sequence(?, ?), "
                              f"COALESCE(MAX({_quote(column)}), 0) + 1, false) "
                              f"FROM {_quote(table)}", (qualified, column))

    def run_lock(self, operation: str, timeout: float) -> PgRunLock:
        return PgRunLock(self, operation, timeout)


class PgRunLock:
    """The run lock as ``pg_try_advisory_lock`` on a dedicated connection, never a pooled
    one (a pool can hand the session to someone else). Who holds it is kept in a row beside
    the lock; the row counts only while its session really holds the lock."""

    def __init__(self, db: PgDatabase, operation: str, timeout: float = 0.0) -> None:
        self.db = db
        self.operation = operation
        self.timeout = timeout
        self._conn: Any = None
        self._checked = 0.0
        self._table = f"{_quote(db.schema)}.{HOLDER}"

    def holder(self, conn: Any = None) -> dict[str, object] | None:
        own = conn is None
        conn = conn or self._conn or self.db.connect()
        try:
            with self.db.lost_connection():
                row = conn.execute(
                    f"SELECT h.host, h.pid, h.started_at, h.operation FROM {self._table} h "
                    "WHERE h.id = 1 AND EXISTS (SELECT 1 FROM pg_locks l WHERE "
                    "l.locktype = 'advisory' AND l.granted AND l.pid = h.backend_pid AND "
                    "l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 2)",
                    (RUN_LOCK, self.db.lock_key)).fetchone()
        finally:
            if own and conn is not self._conn:
                conn.close()
        if row is None:
            return None
        return {"host": row[0], "pid": row[1], "started_at": row[2], "operation": row[3]}

    def acquire(self) -> None:
        _ = self.db.conn  # the schema (and its holder table) exist before anyone locks
        conn = self.db.connect(options=LOCK_SESSION)
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        try:
            with self.db.lost_connection():
                while not conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                       (RUN_LOCK, self.db.lock_key)).fetchone()[0]:
                    if time.monotonic() >= deadline:
                        raise LockHeld(held_message(self.holder(conn), self.db.location))
                    time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                    delay = min(delay * 2, 0.5)
                conn.execute(
                    f"INSERT INTO {self._table} (id, host, pid, started_at, operation, "
                    "backend_pid) VALUES (1, %s, %s, %s, %s, pg_backend_pid()) "
                    "ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, "
                    "started_at = excluded.started_at, operation = excluded.operation, "
                    "backend_pid = excluded.backend_pid",
                    (socket.gethostname(), os.getpid(),
                     clock.iso(datetime.now(timezone.utc)), self.operation))
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._checked = time.monotonic()
        self.db.held = self

    def verify(self) -> None:
        """Stop before writing if the lock's session is gone (server restart, partition):
        another host may hold the lock by now."""
        if self._conn is None or time.monotonic() - self._checked < LOCK_CHECK_SECONDS:
            return
        try:
            self._conn.execute("SELECT 1")
        except _driver().Error:
            raise StoreError(f"lost the run lock on {self.db.location}: its connection "
                             "dropped; stopping before writing anything more") from None
        self._checked = time.monotonic()

    def release(self) -> None:
        if self._conn is None:
            return
        self.db.held = None
        conn, self._conn = self._conn, None
        try:
            conn.execute(f"DELETE FROM {self._table} WHERE id = 1 AND "
                         "backend_pid = pg_backend_pid()")
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (RUN_LOCK, self.db.lock_key))
        except _driver().Error:
            pass  # the session is gone, and with it the lock
        finally:
            conn.close()

    def __enter__(self) -> PgRunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
