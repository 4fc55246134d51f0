"""The executor: applies a module's actions in batches at the backend's limits and records
each batch's outcome in the state store in one transaction.

Crash safety: a create is preceded by an intent row, so a run killed between the remote
write and the state write finds the record it made (the planner links it) instead of
creating it again; cursors move only after every batch they cover is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.errors import ApiLimitReached, DeskctlError
from deskctl.models.records import WriteResult
from deskctl.state.sync import PairRow, SyncStore
from deskctl.sync.mapping import ModuleMapping, fingerprint, to_side
from deskctl.sync.plan import CRM, DESK, Action, other, summary_key

if TYPE_CHECKING:
    from deskctl.backends.base import CrmApi, DeskApi


LIMITED = "the API limit was reached before this write"


class Unresolved(DeskctlError):
    """A Contact's account is not linked (yet); the contact waits for the next run."""


@dataclass
class Outcome:
    counts: dict[str, int] = field(default_factory=dict)  # as plan.summarize counts
    failed: list[tuple[Action, str]] = field(default_factory=list)

    def done(self, action: Action) -> None:
        key = summary_key(action)
        self.counts[key] = self.counts.get(key, 0) + 1


class AccountLinks:
    """Translates canonical account references (CRM ids, or 'desk:<id>' when unlinked)."""

    def __init__(self, pairs: dict[str, PairRow]) -> None:
        self.crm_to_desk = {p.crm_id: p.desk_id for p in pairs.values()}
        self.desk_to_crm = {p.desk_id: p.crm_id for p in pairs.values()}

    def canonical(self, side: str, record_id: str) -> str:
        if side == CRM:
            return record_id
        return self.desk_to_crm.get(record_id, f"desk:{record_id}")

    def on_side(self, side: str, value: str) -> str:
        if side == DESK:
            if value.startswith("desk:"):
                return value[5:]
            if value in self.crm_to_desk:
                return self.crm_to_desk[value]
        else:
            if not value.startswith("desk:"):
                return value
            if value[5:] in self.desk_to_crm:
                return self.desk_to_crm[value[5:]]
        raise Unresolved(f"its account {value} is not synced yet")


class Executor:
    def __init__(self, crm: CrmApi, desk: DeskApi, sync: SyncStore, mapping: ModuleMapping,
                 links: AccountLinks, modified: dict[tuple[str, str], str],
                 progress: Callable[[int], None] = lambda n: None) -> None:
        self.crm, self.desk, self.sync = crm, desk, sync
        self.mapping = mapping
        self.module = mapping.module
        self.links = links
        self.modified = modified  # (side, id) -> modified time as read
        self.progress = progress
        self.outcome = Outcome()

    def apply(self, actions: list[Action]) -> Outcome:
        state_only = [a for a in actions if a.kind in ("unlink", "conflict", "problem")
                      or (a.kind == "link" and a.target is None)]
        with self.sync.store.transaction():
            for action in state_only:
                self._record_state_only(action)
        self.progress(len(state_only))
        for side in (CRM, DESK):
            for kind in ("create", "update", "delete"):
                batch = [a for a in actions if a.target == side and a.kind == kind]
                if batch:
                    self._write(side, kind, batch)
        return self.outcome

    # state-only actions

    def _pair(self, crm_id: str, desk_id: str, values: dict[str, Any],
              other_values: dict[str, Any] | None = None) -> None:
        crm_fp = fingerprint(values)
        desk_fp = fingerprint(other_values) if other_values is not None else crm_fp
        self.sync.save_pair(PairRow(
            self.module, crm_id, desk_id, crm_fp, desk_fp,
            self.modified.get((CRM, crm_id), clock.now_iso()),
            self.modified.get((DESK, desk_id), clock.now_iso())))
        for side, record_id in ((CRM, crm_id), (DESK, desk_id)):
            self.sync.clear_intent(self.module, side, record_id)
            self.sync.clear_error(self.module, side, record_id)

    def _record_state_only(self, action: Action) -> None:
        crm_id, desk_id = str(action.crm_id), str(action.desk_id)
        if action.kind == "unlink":
            self.sync.drop_pair(self.module, crm_id)
            if action.target is not None:
                kept = crm_id if action.target == CRM else desk_id
                self.sync.keep_apart(self.module, action.target, kept)
        elif action.kind == "conflict":
            self._pair(crm_id, desk_id, action.values, action.other_values)
            self.sync.add_conflict(self.module, crm_id, desk_id, action.values,
                                   action.other_values)
        elif action.kind == "problem":
            side = str(action.target)
            self.sync.record_error(self.module, side, crm_id if side == CRM else desk_id,
                                   action.reason)
        else:
            self._pair(crm_id, desk_id, action.values, action.other_values or None)
        self.outcome.done(action)

    # remote writes

    def _payload(self, side: str, action: Action) -> dict[str, Any]:
        return to_side(self.mapping, side, action.values, self.links.on_side)

    def _write(self, side: str, kind: str, actions: list[Action]) -> None:
        size = self.crm.write_batch if side == CRM else max(1, self.desk.concurrency) * 25
        for start in range(0, len(actions), size):
            batch = actions[start:start + size]
            if kind == "create":
                self.sync.add_intents(self.module, other(side),
                                      [str(a.source_id()) for a in batch])
            limit: list[ApiLimitReached] = []
            results = self._call(side, kind, batch, limit)
            with self.sync.store.transaction():
                for action, (ok, new_id, error) in zip(batch, results, strict=True):
                    if error is not LIMITED:
                        self._record_write(side, kind, action, ok, new_id, error)
            self.progress(len(batch))
            if limit:  # the API limit: what was written is recorded; the rest waits a run
                raise limit[0]

    def _call(self, side: str, kind: str, batch: list[Action], limit: list[ApiLimitReached],
              ) -> list[tuple[bool, str | None, str | None]]:
        """One result per action: (ok, id of the written record, error). An action that met
        the API limit (collected in ``limit``) gets the error LIMITED and is not recorded:
        not written, no error either, it is simply done by the next run."""
        payloads: list[dict[str, Any] | None] = []
        early: dict[int, str] = {}
        for i, action in enumerate(batch):
            try:
                payloads.append(self._payload(side, action) if kind != "delete" else {})
            except Unresolved as exc:
                payloads.append(None)
                early[i] = exc.message
        todo = [i for i in range(len(batch)) if i not in early]
        results: dict[int, tuple[bool, str | None, str | None]] = {
            i: (False, None, msg) for i, msg in early.items()}
        if side == CRM:
            module = self.module
            try:
                if kind == "create":
                    answers = self.crm.create_records(module, [payloads[i] or {} for i in todo])
                elif kind == "update":
                    answers = self.crm.update_records(
                        module, [(str(batch[i].crm_id), payloads[i] or {}) for i in todo])
                else:
                    answers = self.crm.delete_records(module,
                                                      [str(batch[i].crm_id) for i in todo])
            except ApiLimitReached as exc:
                limit.append(exc)
                answers = [WriteResult(False, error=LIMITED)] * len(todo)
            except DeskctlError as exc:  # the whole call failed: every record waits a run
                answers = [WriteResult(False, error=exc.message)] * len(todo)
            for i, answer in zip(todo, answers, strict=True):
                results[i] = (answer.ok, answer.id, answer.error)
        else:
            def one(i: int) -> tuple[bool, str | None, str | None]:
                action, kind_ = batch[i], self.mapping.kind
                if limit:  # no more calls once Zoho said the day's credits are spent
                    return False, None, LIMITED
                try:
                    if kind == "create":
                        record = self.desk.create_record(kind_, payloads[i] or {})
                    elif kind == "update":
                        record = self.desk.update_record(kind_, str(action.desk_id),
                                                         payloads[i] or {})
                    else:
                        self.desk.delete_record(kind_, str(action.desk_id))
                        return True, action.desk_id, None
                except ApiLimitReached as exc:
                    limit.append(exc)
                    return False, None, LIMITED
                except DeskctlError as exc:
                    return False, None, exc.message
                self.modified[(DESK, record.id)] = record.modified_time
                return True, record.id, None

            workers = max(1, self.desk.concurrency)
            if workers == 1:
                answers_ = [one(i) for i in todo]
            else:
                with ThreadPoolExecutor(workers) as pool:
                    answers_ = list(pool.map(one, todo))
            results.update(zip(todo, answers_, strict=True))
        return [results[i] for i in range(len(batch))]

    def _record_write(self, side: str, kind: str, action: Action, ok: bool,
                      new_id: str | None, error: str | None) -> None:
        source_side, source_id = other(side), str(action.source_id())
        if not ok:
            if kind == "update":
                # the source looks changed to the next run, which writes it again
                self.sync.set_fp(self.module, str(action.crm_id), source_side, "")
            self.sync.record_error(self.module, source_side, source_id,
                                   f"{kind} in {side} failed: {error}")
            self.outcome.failed.append((action, str(error)))
            return
        if kind == "delete":
            self.sync.drop_pair(self.module, str(action.crm_id))
        elif kind == "create":
            target_id = str(new_id)
            crm_id, desk_id = (target_id, source_id) if side == CRM else (source_id, target_id)
            self._pair(crm_id, desk_id, action.values)
        else:
            written = fingerprint(action.values)
            self.sync.set_fp(self.module, str(action.crm_id), side, written)
            if not action.merge:  # the values came from the source side as it is now
                self.sync.set_fp(self.module, str(action.crm_id), source_side, written)
            self.sync.clear_error(self.module, source_side, source_id)
        self.outcome.done(action)
