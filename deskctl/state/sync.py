"""The sync's rows in the state store: record pairs with fingerprints, cursors, conflicts,
record errors, records kept apart after an unlink, create intents, and run history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from deskctl import clock
from deskctl.state.store import SYNC_TABLES, StateStore


@dataclass(frozen=True, slots=True)
class PairRow:
    module: str
    crm_id: str
    desk_id: str
    crm_fp: str
    desk_fp: str
    crm_modified: str
    desk_modified: str


class SyncStore:
    """Typed access to the sync tables; every method runs in (or joins) one transaction."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    @property
    def _conn(self) -> Any:
        return self.store.conn

    # pairs

    def pairs(self, module: str) -> dict[str, PairRow]:
        rows = self._conn.execute("SELECT * FROM sync_pairs WHERE module = ?", (module,))
        return {r["crm_id"]: PairRow(module, r["crm_id"], r["desk_id"], r["crm_fp"],
                                     r["desk_fp"], r["crm_modified"], r["desk_modified"])
                for r in rows}

    def save_pair(self, row: PairRow) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM sync_pairs WHERE module = ? AND (crm_id = ? OR desk_id = ?)",
                         (row.module, row.crm_id, row.desk_id))
            conn.execute("INSERT INTO sync_pairs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (row.module, row.crm_id, row.desk_id, row.crm_fp, row.desk_fp,
                          row.crm_modified, row.desk_modified, clock.now_iso()))

    def forget_links(self, modules: tuple[str, ...]) -> int:
        """Drop the record pairs (and their cursors, conflicts, errors) of ``modules``;
        returns how many pairs there were."""
        marks = ",".join("?" * len(modules))
        with self.store.transaction() as conn:
            count = conn.execute(f"SELECT count(*) FROM sync_pairs WHERE module IN ({marks})",
                                 modules).fetchone()[0]
            for table in SYNC_TABLES[:-1]:
                conn.execute(f"DELETE FROM {table} WHERE module IN ({marks})", modules)
        return int(count)

    def pair_map(self, module: str) -> dict[str, str]:
        """{CRM id: Desk id} of a module's synced pairs."""
        rows = self._conn.execute("SELECT crm_id, desk_id FROM sync_pairs WHERE module = ?",
                                 (module,))
        return {r[0]: r[1] for r in rows}

    def last_sync_run(self) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return {"started_at": row["started_at"], "finished_at": row["finished_at"],
                "outcome": row["outcome"], "summary": json.loads(row["summary"])}

    def link_counts(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT module, count(*) FROM sync_pairs GROUP BY module")
        return {r[0]: r[1] for r in rows}

    def set_fp(self, module: str, crm_id: str, side: str, fp: str) -> None:
        column = "crm_fp" if side == "crm" else "desk_fp"
        with self.store.transaction() as conn:
            conn.execute(f"UPDATE sync_pairs SET {column} = ? WHERE module = ? AND crm_id = ?",
                         (fp, module, crm_id))

    def drop_pair(self, module: str, crm_id: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM sync_pairs WHERE module = ? AND crm_id = ?",
                         (module, crm_id))
            conn.execute("DELETE FROM sync_conflicts WHERE module = ? AND crm_id = ?",
                         (module, crm_id))

    # cursors: side is crm, desk, crm-deleted or desk-deleted

    def cursors(self, module: str) -> dict[str, str]:
        rows = self._conn.execute("SELECT side, cursor FROM sync_cursors WHERE module = ?",
                                  (module,))
        return {r["side"]: r["cursor"] for r in rows}

    def all_cursors(self) -> list[dict[str, str]]:
        rows = self._conn.execute("SELECT * FROM sync_cursors ORDER BY module, side")
        return [{"module": r["module"], "side": r["side"], "cursor": r["cursor"]} for r in rows]

    def set_cursor(self, module: str, side: str, cursor: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO sync_cursors VALUES (?, ?, ?) ON CONFLICT(module, side) "
                         "DO UPDATE SET cursor = excluded.cursor", (module, side, cursor))

    # conflicts (policy manual)

    def add_conflict(self, module: str, crm_id: str, desk_id: str, crm_values: dict[str, Any],
                     desk_values: dict[str, Any]) -> None:
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO sync_conflicts (module, crm_id, desk_id, crm_values, "
                         "desk_values, detected_at) VALUES (?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT(module, crm_id) DO UPDATE SET crm_values = "
                         "excluded.crm_values, desk_values = excluded.desk_values",
                         (module, crm_id, desk_id, json.dumps(crm_values),
                          json.dumps(desk_values), clock.now_iso()))

    def conflicts(self) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT * FROM sync_conflicts ORDER BY id")
        return [{"id": r["id"], "module": r["module"], "crm_id": r["crm_id"],
                 "desk_id": r["desk_id"], "crm": json.loads(r["crm_values"]),
                 "desk": json.loads(r["desk_values"]), "detected_at": r["detected_at"]}
                for r in rows]

    def drop_conflict(self, conflict_id: int) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM sync_conflicts WHERE id = ?", (conflict_id,))

    def conflict_ids(self, module: str) -> set[str]:
        rows = self._conn.execute("SELECT crm_id FROM sync_conflicts WHERE module = ?",
                                  (module,))
        return {r[0] for r in rows}

    # record errors: kept until the record syncs, retried every run

    def record_error(self, module: str, side: str, record_id: str, message: str) -> None:
        now = clock.now_iso()
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO sync_errors VALUES (?, ?, ?, ?, ?, ?, 1) "
                         "ON CONFLICT(module, side, record_id) DO UPDATE SET "
                         "message = excluded.message, last_seen = excluded.last_seen, "
                         "attempts = attempts + 1", (module, side, record_id, message, now, now))

    def clear_error(self, module: str, side: str, record_id: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM sync_errors WHERE module = ? AND side = ? AND record_id = ?",
                         (module, side, record_id))

    def errors(self, module: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM sync_errors" + (" WHERE module = ?" if module else "")
        rows = self._conn.execute(sql + " ORDER BY module, first_seen",
                                  (module,) if module else ())
        return [dict(r) for r in rows]

    # records kept apart after an unlink, so they are not re-created or re-matched

    def unlinked(self, module: str) -> set[tuple[str, str]]:
        rows = self._conn.execute("SELECT side, record_id FROM sync_unlinked WHERE module = ?",
                                  (module,))
        return {(r[0], r[1]) for r in rows}

    def keep_apart(self, module: str, side: str, record_id: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO sync_unlinked VALUES (?, ?, ?)",
                         (module, side, record_id))

    # create intents: written before a create, removed with the pair it produced

    def intents(self, module: str) -> set[tuple[str, str]]:
        rows = self._conn.execute("SELECT side, record_id FROM sync_intents WHERE module = ?",
                                  (module,))
        return {(r[0], r[1]) for r in rows}

    def add_intents(self, module: str, side: str, ids: list[str]) -> None:
        with self.store.transaction() as conn:
            conn.executemany("INSERT OR IGNORE INTO sync_intents VALUES (?, ?, ?, ?)",
                             [(module, side, i, clock.now_iso()) for i in ids])

    def clear_intent(self, module: str, side: str, record_id: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM sync_intents WHERE module = ? AND side = ? AND "
                         "record_id = ?", (module, side, record_id))

    # run history

    def start_run(self) -> int:
        with self.store.transaction() as conn:
            cur = conn.execute("INSERT INTO sync_runs (started_at, outcome) VALUES (?, ?)",
                               (clock.now_iso(), "running"))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, outcome: str, summary: dict[str, Any]) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE sync_runs SET finished_at = ?, outcome = ?, summary = ? "
                         "WHERE id = ?", (clock.now_iso(), outcome, json.dumps(summary), run_id))
