"""SQLite state store: WAL, schema version with migrations, mode 0600, transactions, audit.

Holds the integration's own facts (settings, sync status, cursors, signal cursors, audit).
Never holds secrets. Callers group writes with ``transaction()``; a crash mid-transaction
leaves the file as it was before it (SQLite's journal).
"""

from __future__ import annotations

import json
from typing import Any

from deskctl import clock
from deskctl.sqlitefile import SqliteFile
from deskctl.state.schema import MIGRATIONS

SYNC_TABLES = ("sync_pairs", "sync_cursors", "sync_conflicts", "sync_errors", "sync_unlinked",
               "sync_intents", "sync_runs")


class StateStore(SqliteFile):
    """The integration's local facts in one SQLite file."""

    migrations = MIGRATIONS
    label = "state file"
    recovery = ("restore it from a backup, or move it away to start over (losing the sync "
                "pairs and the audit log); 'deskctl state check' reports what is wrong")
    read_only_until_write = True  # `sync status` works on a state file it may not write
    #: seconds a state change waits for the run lock (config ``lock_timeout``)
    lock_timeout: float = 0.0

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # settings: small JSON documents by key

    def get(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return self._json(row["value"], f"setting {key!r}") if row else default

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
            conn.execute("INSERT OR IGNORE INTO signals_seen VALUES (?, ?)",
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
                 "target": r["target"], "details": self._json(r["details"], "audit details")}
                for r in rows]

    def _json(self, text: str, what: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            raise self.damaged(f"{what} is not valid JSON") from None

