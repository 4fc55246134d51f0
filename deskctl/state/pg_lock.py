"""The run lock on PostgreSQL: a session advisory lock held on a dedicated connection for
the run's whole length (the server frees it when the holder dies or is partitioned), and
who holds it in a row beside the lock, so a waiting run can name the holder (exit 4)."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.errors import LockHeld
from deskctl.sqlitefile import StoreError
from deskctl.state.lock import held_message
from deskctl.state.pg_connection import driver, quote

if TYPE_CHECKING:
    from deskctl.state.postgres import PgDatabase

RUN_LOCK = 0x64736B72  # first key of the run lock ('dskr'); the second is the schema's
HOLDER = "deskctl_lock"  # who holds the run lock: bookkeeping, not state (never copied)
LOCK_CHECK_SECONDS = 2.0
# The server drops a partitioned holder's session (and its lock) after about 25 s.
LOCK_SESSION = ("-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 "
                "-c tcp_keepalives_count=3 -c tcp_user_timeout=25000 "
                "-c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0")


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
        self._table = f"{quote(db.schema)}.{HOLDER}"

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
                     clock.iso_second(datetime.now(timezone.utc)), self.operation))
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
        except driver().Error:
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
        except driver().Error:
            pass  # the session is gone, and with it the lock
        finally:
            conn.close()

    def __enter__(self) -> PgRunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
