"""The state store: the integration's own facts (settings, sync status, cursors, signal
cursors, audit) in whichever database the ``state`` setting names (database.py).

Never holds secrets. Callers group writes with ``transaction()``; a crash mid-transaction
leaves the state as it was before it (SQLite's journal, PostgreSQL's transactions).
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from deskctl import clock
from deskctl.state.database import Database, RunLockHandle, SqliteDatabase, open_database

SYNC_TABLES = ("sync_pairs", "sync_cursors", "sync_conflicts", "sync_errors", "sync_unlinked",
               "sync_intents", "sync_ignored", "sync_former_pairs", "sync_runs")


class StateStore:
    """One profile's state. ``location`` is a file path or a ``postgresql://`` URL."""

    #: seconds a state change waits for the run lock (config ``lock_timeout``)
    lock_timeout: float = 0.0

    def __init__(self, location: str | Path, profile: str = "default") -> None:
        self.db: Database = open_database(location, profile)

    @property
    def conn(self) -> Any:
        return self.db.conn

    @property
    def path(self) -> Path:
        """The SQLite file (tests and the file's own tooling only)."""
        assert isinstance(self.db, SqliteDatabase), "not a file store"
        return self.db.path

    @property
    def location(self) -> str:
        return self.db.location

    def transaction(self) -> AbstractContextManager[Any]:
        return self.db.transaction()

    def close(self) -> None:
        self.db.close()

    @property
    def schema_version(self) -> int:
        return self.db.schema_version()

    def run_lock(self, operation: str, timeout: float = 0.0) -> RunLockHandle:
        """The run lock of this store (exit 4 naming the holder when it is taken)."""
        _ = self.conn  # open (and migrate) first, so a bad location fails before any lock
        return self.db.run_lock(operation, timeout)

    # settings: small JSON documents by key

    def get(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return self.decode(row["value"], f"setting {key!r}") if row else default

    def put(self, key: str, value: Any) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO settings(key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         (key, json.dumps(value, sort_keys=True)))

    def delete(self, *keys: str) -> None:
        with self.transaction() as conn:
            conn.executemany("DELETE FROM settings WHERE key = ?", [(k,) for k in keys])

    def reset_integration(self) -> None:
        """Forget everything about the integration except the audit log."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM settings")
            conn.execute("DELETE FROM signals_seen")
            for table in SYNC_TABLES:
                conn.execute(f"DELETE FROM {table}")

    # signals delivered by `signals watch`

    def seen_signals(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT id FROM signals_seen")}

    def mark_signal_seen(self, signal_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO signals_seen (id, delivered_at) VALUES (?, ?) "
                         "ON CONFLICT DO NOTHING",
                         (signal_id, clock.now_iso()))

    # audit log: who changed what, when

    def audit(self, actor: str, action: str, target: str = "",
              details: dict[str, Any] | None = None) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO audit(at, actor, action, target, details) "
                         "VALUES (?, ?, ?, ?, ?)",
                         (clock.now_iso(), actor, action, target,
                          json.dumps(details or {}, sort_keys=True)))

    def audit_entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM audit ORDER BY id DESC"
        rows = self.conn.execute(sql + (" LIMIT ?" if limit else ""),
                                 (limit,) if limit else ()).fetchall()
        return [{"id": r["id"], "at": r["at"], "actor": r["actor"], "action": r["action"],
                 "target": r["target"], "details": self.decode(r["details"], "audit details")}
                for r in rows]

    def decode(self, text: str, what: str) -> Any:
        """A cell holding JSON; text that does not decode is a damaged state (one line
        naming it and what to do), not a bug of deskctl."""
        try:
            return json.loads(text)
        except ValueError:
            raise self.db.damaged(f"{what} is not valid JSON") from None

