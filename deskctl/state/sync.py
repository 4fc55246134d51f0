"""The sync's rows in the state store: record pairs with their base values, cursors,
field-level conflicts, record errors, records kept apart after an unlink, create intents
(with their payload and match keys), and run history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from deskctl import clock
from deskctl.models.sync import CRM, DESK, SIDES, Outstanding, Pair, Side
from deskctl.state.batch import StateBatch
from deskctl.state.store import SYNC_TABLES, StateStore

CHUNK = 500  # ids per IN (...) query, under every database's parameter limit


class SyncStore:
    """Typed access to the sync tables; every method runs in (or joins) one transaction."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    @property
    def _conn(self) -> Any:
        return self.store.conn

    def _cell(self, row: Any, table: str, column: str) -> Any:
        return self.store.decode(row[column], f"{table}.{column}")

    def _pair(self, module: str, r: Any) -> Pair:
        held = {side: self._cell(r, "sync_pairs", f"{side}_held")
                for side in SIDES if r[f"{side}_held"]}
        base = self._cell(r, "sync_pairs", "base") if r["base"] is not None else None
        return Pair(module, r["crm_id"], r["desk_id"], base, held,
                    {CRM: r["crm_modified"], DESK: r["desk_modified"]},
                    {CRM: r["crm_fp"], DESK: r["desk_fp"]})

    # pairs

    def pairs(self, module: str) -> dict[str, Pair]:
        """Every pair of a module by CRM id (small modules and tests; a run loads only
        the pairs it needs with pairs_for)."""
        rows = self._conn.execute("SELECT * FROM sync_pairs WHERE module = ?", (module,))
        return {r["crm_id"]: self._pair(module, r) for r in rows}

    def pairs_for(self, module: str, side: Side, ids: Iterable[str]) -> list[Pair]:
        column = "crm_id" if side == CRM else "desk_id"
        wanted, found = sorted(set(ids)), []
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            rows = self._conn.execute(
                f"SELECT * FROM sync_pairs WHERE module = ? AND {column} IN "
                f"({','.join('?' * len(chunk))})", (module, *chunk))
            found += [self._pair(module, r) for r in rows]
        return found

    def owing(self, module: str) -> list[Pair]:
        """Pairs with a write still owed to a side (a crash or a failed write)."""
        rows = self._conn.execute("SELECT * FROM sync_pairs WHERE module = ? AND "
                                  "(crm_held IS NOT NULL OR desk_held IS NOT NULL)", (module,))
        return [self._pair(module, r) for r in rows]

    @contextmanager
    def batch(self) -> Iterator[StateBatch]:
        """Many records' pair, conflict, error, intent and kept-apart writes, sent
        set-based when the block ends (nothing is sent if it raises); all in one
        transaction. Inside the block, write those rows through the batch only: a
        one-record method would be sent before what the batch still holds."""
        with self.store.transaction():
            writes = StateBatch(self.store)
            yield writes
            writes.flush()

    def save_pairs(self, pairs: Iterable[Pair]) -> None:
        """Insert or replace pairs; a record is in one pair only, so a pair sharing either
        id with a new one is replaced by it."""
        with self.batch() as writes:
            for pair in pairs:
                writes.save_pair(pair)

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

    def former_pairs(self, module: str) -> dict[str, str]:
        """{CRM id: Desk id} of a module's pairs forgotten since (a deletion, `sync
        ignore`); kept for REFERENCED modules only (models/sync.py)."""
        rows = self._conn.execute("SELECT crm_id, desk_id FROM sync_former_pairs WHERE "
                                  "module = ?", (module,))
        return {r[0]: r[1] for r in rows}

    def last_sync_run(self) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return {"started_at": row["started_at"], "finished_at": row["finished_at"],
                "outcome": row["outcome"], "summary": self._cell(row, "sync_runs", "summary")}

    def link_counts(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT module, count(*) FROM sync_pairs GROUP BY module")
        return {r[0]: r[1] for r in rows}

    def drop_pair(self, module: str, crm_id: str) -> None:
        with self.batch() as writes:
            writes.drop_pair(module, crm_id)

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
            conn.execute("INSERT INTO sync_cursors (module, side, cursor) VALUES (?, ?, ?) "
                         "ON CONFLICT(module, side) DO UPDATE SET cursor = excluded.cursor",
                         (module, side, cursor))

    # conflicts (policy manual)

    def add_conflict(self, module: str, crm_id: str, desk_id: str,
                     fields: dict[str, tuple[Any, Any]]) -> None:
        """Open (or update) a pair's conflict: {field: (CRM value, Desk value)}."""
        with self.batch() as writes:
            writes.add_conflict(module, crm_id, desk_id, fields)

    def open_conflicts(self, module: str) -> dict[str, dict[str, tuple[Any, Any]]]:
        """{CRM id: {field: (CRM value, Desk value)}} of a module's open conflicts."""
        rows = self._conn.execute("SELECT crm_id, fields, crm_values, desk_values FROM "
                                  "sync_conflicts WHERE module = ?", (module,))
        result = {}
        for r in rows:
            crm = self._cell(r, "sync_conflicts", "crm_values")
            desk = self._cell(r, "sync_conflicts", "desk_values")
            result[r["crm_id"]] = {f: (crm.get(f), desk.get(f))
                                   for f in self._cell(r, "sync_conflicts", "fields")}
        return result

    def close_conflict(self, module: str, crm_id: str) -> None:
        with self.batch() as writes:
            writes.close_conflict(module, crm_id)

    def conflicts(self) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT * FROM sync_conflicts ORDER BY id")
        return [{"id": r["id"], "module": r["module"], "crm_id": r["crm_id"],
                 "desk_id": r["desk_id"], "fields": self._cell(r, "sync_conflicts", "fields"),
                 "crm": self._cell(r, "sync_conflicts", "crm_values"),
                 "desk": self._cell(r, "sync_conflicts", "desk_values"),
                 "detected_at": r["detected_at"]}
                for r in rows]

    # record errors: kept until the record syncs, retried every run

    def record_error(self, module: str, side: str, record_id: str, message: str,
                     kind: str = "write", match_key: str = "") -> None:
        """kind: write (retried every run) or ambiguous (looked at again when a record
        sharing ``match_key`` changes)."""
        with self.batch() as writes:
            writes.record_error(module, side, record_id, message, kind, match_key)

    def clear_error(self, module: str, side: str, record_id: str) -> None:
        with self.batch() as writes:
            writes.clear_error(module, side, record_id)

    def errors(self, module: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM sync_errors" + (" WHERE module = ?" if module else "")
        rows = self._conn.execute(sql + " ORDER BY module, first_seen",
                                  (module,) if module else ())
        return [dict(r) for r in rows]

    def outstanding(self) -> Outstanding:
        """Every record in error and open conflict, by key (what a run reports it leaves)."""
        errors = self._conn.execute("SELECT module, side, record_id FROM sync_errors")
        conflicts = self._conn.execute("SELECT module, crm_id FROM sync_conflicts")
        return Outstanding({(r[0], r[1], r[2]) for r in errors},
                           {(r[0], r[1]) for r in conflicts})

    # records kept apart after an unlink, so they are not re-created or re-matched

    def unlinked(self, module: str) -> set[tuple[str, str]]:
        """Records kept apart: after an unlink, or ignored by hand."""
        rows = self._conn.execute("SELECT side, record_id FROM sync_unlinked WHERE module = ?",
                                  (module,))
        return {(r[0], r[1]) for r in rows} | self.ignored_ids(module)

    def keep_apart(self, module: str, side: str, record_id: str) -> None:
        with self.batch() as writes:
            writes.keep_apart(module, side, record_id)

    # records left out of the sync by hand (`sync ignore`); kept apart like unlinked ones

    def ignored_ids(self, module: str) -> set[tuple[str, str]]:
        rows = self._conn.execute("SELECT side, record_id FROM sync_ignored WHERE module = ?",
                                  (module,))
        return {(r[0], r[1]) for r in rows}

    def ignored(self) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT module, side, record_id, partner, ignored_at, "
                                  "ignored_by FROM sync_ignored ORDER BY module, ignored_at")
        return [dict(r) for r in rows]

    def ignore(self, module: str, side: str, record_id: str, by: str, partner: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO sync_ignored (module, side, record_id, partner, "
                         "ignored_at, ignored_by) VALUES (?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (module, side, record_id) DO NOTHING",
                         (module, side, record_id, partner, clock.now_iso(), by))

    def unignore(self, module: str, side: str, record_id: str) -> str:
        """Take a record back; returns the counterpart it was unpaired from ('' if none)."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT partner FROM sync_ignored WHERE module = ? AND "
                               "side = ? AND record_id = ?", (module, side, record_id)
                               ).fetchone()
            conn.execute("DELETE FROM sync_ignored WHERE module = ? AND side = ? AND "
                         "record_id = ?", (module, side, record_id))
        return str(row[0]) if row else ""

    def take_back(self, module: str, side: str, record_id: str) -> None:
        """No longer keep a record apart (a link by hand overrides an earlier unlink)."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM sync_unlinked WHERE module = ? AND side = ? AND "
                         "record_id = ?", (module, side, record_id))

    # create intents: written before a create, removed with the pair it produced

    def intents(self, module: str) -> dict[tuple[Side, str], dict[str, Any]]:
        """{(source side, source id): {payload, keys, fp, at}} of unfinished creates."""
        rows = self._conn.execute("SELECT * FROM sync_intents WHERE module = ?", (module,))
        return {(cast(Side, r["side"]), r["record_id"]): {
                    "payload": self._cell(r, "sync_intents", "payload"),
                    "keys": self._cell(r, "sync_intents", "match_keys"),
                    "fp": r["fp"], "at": r["at"]} for r in rows}

    def add_intents(self, module: str, side: str,
                    intents: list[tuple[str, dict[str, Any], list[str], str]]) -> None:
        """Before creates: (source id, payload values, match keys, fingerprint) each."""
        with self.batch() as writes:
            for record_id, payload, keys, fp in intents:
                writes.add_intent(module, side, record_id, payload, keys, fp)

    def clear_intent(self, module: str, side: str, record_id: str) -> None:
        with self.batch() as writes:
            writes.clear_intent(module, side, record_id)

    # run history

    def start_run(self) -> int:
        with self.store.transaction() as conn:
            row = conn.execute("INSERT INTO sync_runs (started_at, outcome) VALUES (?, ?) "
                               "RETURNING id", (clock.now_iso(), "running")).fetchone()
        return int(row[0])

    def finish_run(self, run_id: int, outcome: str, summary: dict[str, Any]) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE sync_runs SET finished_at = ?, outcome = ?, summary = ? "
                         "WHERE id = ?", (clock.now_iso(), outcome, json.dumps(summary), run_id))

    def heartbeat(self, run_id: int) -> None:
        """A running run's last sign of life: its end time if it is killed."""
        with self.store.transaction() as conn:
            conn.execute("UPDATE sync_runs SET summary = ? WHERE id = ? AND outcome = ?",
                         (json.dumps({"alive_at": clock.now_iso()}), run_id, "running"))

    def close_interrupted_runs(self) -> int:
        """Runs still marked running, seen by the run lock's holder, were killed: mark them
        interrupted, ended when they were last alive. Call only while holding the lock."""
        rows = self._conn.execute("SELECT id, started_at, summary FROM sync_runs "
                                  "WHERE outcome = ?", ("running",)).fetchall()
        if not rows:
            return 0
        with self.store.transaction() as conn:
            for row in rows:
                summary = self._cell(row, "sync_runs", "summary")
                ended = summary.get("alive_at") or row["started_at"]
                conn.execute("UPDATE sync_runs SET outcome = ?, finished_at = ?, summary = ? "
                             "WHERE id = ?", ("interrupted", ended, json.dumps(
                                 {"reason": "killed (found by the next run)"}), row["id"]))
        return len(rows)
