"""Set-based writes of the sync's per-record rows (pairs, conflicts, errors, intents, records
kept apart, former Account pairs): a write batch's outcomes are collected, then sent as a
few multi-row statements per kind instead of several statements per record (on PostgreSQL every
statement is parsed and planned on its own; on SQLite each costs a Python round).

Reordering is what makes this safe: operations of different kinds that touch different
rows commute, so they may be grouped by kind. An operation on a row (or key) that an
earlier, still pending one touches flushes everything pending first, so the result is
always that of running them one by one, in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import groupby
from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.models.sync import CRM, DESK, REFERENCED, Pair

if TYPE_CHECKING:
    from deskctl.state.store import StateStore

#: bound parameters per statement: SQLite's lowest limit (999 before 3.32), under PG's
MAX_PARAMS = 999

PAIR_COLUMNS = ("module", "crm_id", "desk_id", "crm_fp", "desk_fp", "crm_modified",
                "desk_modified", "synced_at", "base", "crm_held", "desk_held")
CONFLICT_UPSERT = ("ON CONFLICT(module, crm_id) DO UPDATE SET desk_id = excluded.desk_id, "
                   "crm_values = excluded.crm_values, desk_values = excluded.desk_values, "
                   "fields = excluded.fields")
ERROR_UPSERT = ("ON CONFLICT(module, side, record_id) DO UPDATE SET message = excluded.message, "
                "last_seen = excluded.last_seen, kind = excluded.kind, "
                "match_key = excluded.match_key, attempts = sync_errors.attempts + 1")
INTENT_UPSERT = ("ON CONFLICT (module, side, record_id) DO UPDATE SET payload = "
                 "excluded.payload, match_keys = excluded.match_keys, fp = excluded.fp")


_ENCODER = json.JSONEncoder(sort_keys=True, default=str)  # json.dumps(..., same options)


def as_json(value: Any) -> str | None:
    return None if value is None else _ENCODER.encode(value)


def chunks(rows: list[Any], width: int, fixed: int = 0) -> Iterator[list[Any]]:
    """``rows`` in slices whose ``width`` parameters each (plus ``fixed``) fit a statement."""
    size = max(1, (MAX_PARAMS - fixed) // max(1, width))
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


class StateBatch:
    """Pending per-record writes of one transaction; ``flush`` sends them (the caller's
    transaction commits them). Use through ``SyncStore.batch()``."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self._reset()

    def _reset(self) -> None:
        self._now = clock.now_iso()
        self._touched: set[tuple[str, ...]] = set()
        self._pairs: list[Pair] = []
        self._dropped: list[tuple[str, str]] = []  # (module, crm id): pair and conflict
        self._conflicts: list[tuple[Any, ...]] = []
        self._closed: list[tuple[str, str]] = []  # (module, crm id)
        self._errors: list[tuple[Any, ...]] = []
        self._cleared: list[tuple[str, str, str]] = []  # errors (module, side, id)
        self._intents: list[tuple[Any, ...]] = []
        self._intents_done: list[tuple[str, str, str]] = []
        self._apart: list[tuple[str, str, str]] = []

    def _touch(self, *keys: tuple[str, ...]) -> None:
        if any(key in self._touched for key in keys):
            self.flush()
        self._touched.update(keys)

    # the operations, as SyncStore's one-record methods describe them

    def save_pair(self, pair: Pair) -> None:
        self._touch(("pair", pair.module, CRM, pair.crm_id),
                    ("pair", pair.module, DESK, pair.desk_id))
        self._pairs.append(pair)

    def drop_pair(self, module: str, crm_id: str) -> None:
        self._touch(("pair", module, CRM, crm_id), ("conflict", module, crm_id))
        self._dropped.append((module, crm_id))

    def add_conflict(self, module: str, crm_id: str, desk_id: str,
                     fields: dict[str, tuple[Any, Any]]) -> None:
        self._touch(("conflict", module, crm_id))
        self._conflicts.append((module, crm_id, desk_id,
                                as_json({f: v[0] for f, v in fields.items()}),
                                as_json({f: v[1] for f, v in fields.items()}),
                                self._now, as_json(sorted(fields))))

    def close_conflict(self, module: str, crm_id: str) -> None:
        self._touch(("conflict", module, crm_id))
        self._closed.append((module, crm_id))

    def record_error(self, module: str, side: str, record_id: str, message: str,
                     kind: str = "write", match_key: str = "") -> None:
        self._touch(("error", module, side, record_id))
        self._errors.append((module, side, record_id, message, self._now, self._now, 1, kind,
                             match_key))

    def clear_error(self, module: str, side: str, record_id: str) -> None:
        self._touch(("error", module, side, record_id))
        self._cleared.append((module, side, record_id))

    def add_intent(self, module: str, side: str, record_id: str, payload: dict[str, Any],
                   keys: list[str], fp: str) -> None:
        self._touch(("intent", module, side, record_id))
        self._intents.append((module, side, record_id, self._now, as_json(payload),
                              as_json(keys), fp))

    def clear_intent(self, module: str, side: str, record_id: str) -> None:
        self._touch(("intent", module, side, record_id))
        self._intents_done.append((module, side, record_id))

    def keep_apart(self, module: str, side: str, record_id: str) -> None:
        self._touch(("apart", module, side, record_id))
        self._apart.append((module, side, record_id))

    # sending

    def flush(self) -> None:
        """Send what is pending, a few statements per kind (inside the caller's
        transaction); pending operations touch distinct rows, so their order is free."""
        with self.store.transaction() as conn:
            now = self._now
            pairs, dropped = self._pairs, self._dropped
            self._remember(conn, [key for key in dropped if key[0] in REFERENCED])
            self._delete_in(conn, "sync_pairs", "crm_id",
                            [(p.module, p.crm_id) for p in pairs] + dropped)
            self._delete_in(conn, "sync_pairs", "desk_id", [(p.module, p.desk_id) for p in pairs])
            self._insert(conn, "sync_pairs", PAIR_COLUMNS, [_pair_row(p, now) for p in pairs])
            self._delete_in(conn, "sync_conflicts", "crm_id", dropped + self._closed)
            self._insert(conn, "sync_conflicts", ("module", "crm_id", "desk_id", "crm_values",
                                                  "desk_values", "detected_at", "fields"),
                         self._conflicts, CONFLICT_UPSERT)
            self._delete_keyed(conn, "sync_errors", self._cleared)
            self._insert(conn, "sync_errors", ("module", "side", "record_id", "message",
                                               "first_seen", "last_seen", "attempts", "kind",
                                               "match_key"), self._errors, ERROR_UPSERT)
            self._delete_keyed(conn, "sync_intents", self._intents_done)
            self._insert(conn, "sync_intents", ("module", "side", "record_id", "at", "payload",
                                                "match_keys", "fp"), self._intents,
                         INTENT_UPSERT)
            self._insert(conn, "sync_unlinked", ("module", "side", "record_id"), self._apart,
                         "ON CONFLICT DO NOTHING")
        self._reset()

    @staticmethod
    def _insert(conn: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]],
                tail: str = "") -> None:
        row = "(" + ", ".join("?" * len(columns)) + ")"
        for chunk in chunks(rows, len(columns)):
            conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                         f"{', '.join([row] * len(chunk))} {tail}".rstrip(),
                         [value for values in chunk for value in values])

    @staticmethod
    def _remember(conn: Any, keys: list[tuple[str, str]]) -> None:
        """The pairs about to be dropped into sync_former_pairs, replacing former pairs
        that share either id (a record is in one former pair at most, the latest)."""
        for module, group in groupby(sorted(keys), key=lambda k: k[0]):
            for chunk in chunks([k[1] for k in group], 2, fixed=2):
                marks = ", ".join("?" * len(chunk))
                dropping = f"FROM sync_pairs WHERE module = ? AND crm_id IN ({marks})"
                conn.execute(f"DELETE FROM sync_former_pairs WHERE module = ? AND (crm_id IN "
                             f"({marks}) OR desk_id IN (SELECT desk_id {dropping}))",
                             [module, *chunk, module, *chunk])
                conn.execute(f"INSERT INTO sync_former_pairs (module, crm_id, desk_id) "
                             f"SELECT module, crm_id, desk_id {dropping}", [module, *chunk])

    @staticmethod
    def _delete_in(conn: Any, table: str, column: str, keys: list[tuple[str, str]]) -> None:
        """DELETE the rows whose (module, ``column``) is one of ``keys``."""
        for module, group in groupby(sorted(keys), key=lambda k: k[0]):
            for chunk in chunks([k[1] for k in group], 1, fixed=1):
                conn.execute(f"DELETE FROM {table} WHERE module = ? AND {column} IN "
                             f"({', '.join('?' * len(chunk))})", [module, *chunk])

    @staticmethod
    def _delete_keyed(conn: Any, table: str, keys: list[tuple[str, str, str]]) -> None:
        """DELETE the rows keyed (module, side, record_id) in ``keys``."""
        for (module, side), group in groupby(sorted(keys), key=lambda k: (k[0], k[1])):
            for chunk in chunks([k[2] for k in group], 1, fixed=2):
                conn.execute(f"DELETE FROM {table} WHERE module = ? AND side = ? AND "
                             f"record_id IN ({', '.join('?' * len(chunk))})",
                             [module, side, *chunk])


def _pair_row(p: Pair, now: str) -> tuple[Any, ...]:
    fp = p.legacy_fp
    return (p.module, p.crm_id, p.desk_id, fp.get(CRM, ""), fp.get(DESK, ""),
            p.modified.get(CRM, ""), p.modified.get(DESK, ""), now, as_json(p.base),
            as_json(p.held.get(CRM)), as_json(p.held.get(DESK)))
