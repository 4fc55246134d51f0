"""One sync run: read what changed on both sides since the cursors, plan, guard, apply,
then move the cursors. Modules run in order (Accounts, then Contacts) so a Contact's
account link can follow the Account pairs made in the same run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.errors import DeskctlError, NotFound, RuleViolation
from deskctl.models.records import Record
from deskctl.progress import Progress
from deskctl.state.sync import SyncStore
from deskctl.sync.counting import Counted
from deskctl.sync.execute import AccountLinks, Executor
from deskctl.sync.mapping import (
    MATCH_FIELD,
    NAME_FIELD,
    ModuleMapping,
    canonical,
    fingerprint,
    match_key,
)
from deskctl.sync.plan import CRM, DESK, Action, Changes, Item, PlanInput, Policy, plan, summarize

if TYPE_CHECKING:
    from deskctl.backends.base import CrmApi, DeskApi


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    modules: tuple[str, ...] = ("Accounts", "Contacts")
    full: bool = False
    max_delete: str = "10%"
    force: bool = False
    overlap_seconds: int = 5


@dataclass
class Snapshot:
    """Raw reads of one module; turned into planner Items with the account links of the
    moment (so Contacts see the Account pairs made earlier in the same run)."""

    module: str
    records: dict[str, dict[str, Record]] = field(default_factory=lambda: {CRM: {}, DESK: {}})
    deleted: dict[str, set[str]] = field(default_factory=lambda: {CRM: set(), DESK: set()})
    candidates: dict[str, list[Record]] = field(default_factory=lambda: {CRM: [], DESK: []})
    recovered: dict[tuple[str, str], list[Record]] = field(default_factory=dict)
    current: dict[tuple[str, str], Record] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    gone: set[tuple[str, str]] = field(default_factory=set)  # errors/intents of deleted records
    full: set[str] = field(default_factory=set)  # sides read completely: no search needed


class AbortedRun(DeskctlError):
    kind = "aborted"


def parse_max_delete(text: str) -> tuple[float, bool]:
    """'25' -> (25, False); '10%' -> (10, True)."""
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%"))
    except ValueError:
        raise RuleViolation(f"--max-delete must be a count or a percentage, got {text!r}") \
            from None
    if value < 0:
        raise RuleViolation("--max-delete must not be negative")
    return value, percent


class SyncRun:
    def __init__(self, crm: CrmApi, desk: DeskApi, sync: SyncStore,
                 mappings: dict[str, ModuleMapping], policy: Policy, options: RunOptions,
                 progress: Progress | None = None) -> None:
        self.crm: Any = Counted(crm)
        self.desk: Any = Counted(desk)
        self.sync = sync
        self.mappings = mappings
        self.policy = policy
        self.options = options
        self.progress = progress or Progress()

    # reading

    def _since(self, cursor: str | None) -> str | None:
        if cursor is None or self.options.full:
            return None
        return clock.iso(clock.parse_time(cursor) - timedelta(seconds=self.options.overlap_seconds))

    def snapshot(self, module: str) -> Snapshot:
        mapping = self.mappings[module]
        snap = Snapshot(module)
        cursors = self.sync.cursors(module)
        lists = {CRM: lambda since: self.crm.list_records(module, since),
                 DESK: lambda since: self.desk.list_records(mapping.kind, since)}
        tombs = {CRM: lambda since: self.crm.deleted_records(module, since),
                 DESK: lambda since: self.desk.deleted_records(mapping.kind, since)}
        read = {CRM: 0, DESK: 0, "deleted": 0}
        for side in (CRM, DESK):
            newest = cursors.get(side)
            since = self._since(cursors.get(side))
            if since is None:
                snap.full.add(side)
            self.progress.phase(f"Reading {module}", read)
            for record in lists[side](since):
                snap.records[side][record.id] = record
                newest = max(newest or "", record.modified_time)
                read[side] += 1
                self.progress.phase(f"Reading {module}", read)
            if newest:
                snap.cursors[side] = newest
            newest = cursors.get(f"{side}-deleted")
            for stone in tombs[side](self._since(cursors.get(f"{side}-deleted"))):
                snap.deleted[side].add(stone.id)
                newest = max(newest or "", stone.deleted_time)
                read["deleted"] += 1
                self.progress.phase(f"Reading {module}", read)
            if newest:
                snap.cursors[f"{side}-deleted"] = newest
        self._retry_and_recover(snap, mapping)
        return snap

    def _get(self, side: str, module: str, record_id: str) -> Record | None:
        try:
            if side == CRM:
                return self.crm.get_record(module, record_id)
            return self.desk.get_record(self.mappings[module].kind, record_id)
        except NotFound:
            return None

    def _retry_and_recover(self, snap: Snapshot, mapping: ModuleMapping) -> None:
        """Bring in what the cursors will not: records whose last write failed, sources of
        unfinished creates, and (one-way) the CRM side of pairs edited in Desk."""
        module = snap.module
        self.progress.phase(f"Matching {module}")
        wanted = {(e["side"], e["record_id"]) for e in self.sync.errors(module)}
        intents = self.sync.intents(module)
        wanted |= intents
        pairs = self.sync.pairs(module)
        if not self.policy.two_way:
            by_desk = {p.desk_id: p.crm_id for p in pairs.values()}
            for desk_id in snap.records[DESK]:
                if desk_id in by_desk and by_desk[desk_id] not in snap.records[CRM]:
                    record = self._get(CRM, module, by_desk[desk_id])
                    if record is not None:
                        snap.current[(CRM, record.id)] = record
        for side, record_id in sorted(wanted):
            if record_id in snap.records[side]:
                continue
            record = None if record_id in snap.deleted[side] else self._get(side, module,
                                                                             record_id)
            if record is None:  # gone: nothing left to retry (cleared when the run applies)
                snap.gone.add((side, record_id))
            else:
                snap.records[side][record_id] = record
        self._find_candidates(snap, mapping, pairs, intents)

    def _find_candidates(self, snap: Snapshot, mapping: ModuleMapping, pairs: dict[str, Any],
                         intents: set[tuple[str, str]]) -> None:
        """Unpaired records on either side sharing a match key with an unpaired change."""
        module = snap.module
        paired = {CRM: set(pairs), DESK: {p.desk_id for p in pairs.values()}}
        fields = {CRM: MATCH_FIELD[module][0], DESK: MATCH_FIELD[module][1]}
        keys: set[str] = set()
        for side in (CRM, DESK):
            for record in snap.records[side].values():
                value = record.data.get(fields[side])
                if record.id not in paired[side] and value:
                    keys.add(str(value).lower())
        for side in (CRM, DESK):
            # a side read in full already holds every candidate
            found = self._find(side, module, fields[side], sorted(keys)) \
                if keys and side not in snap.full else []
            snap.candidates[side] = [r for r in found if r.id not in paired[side]]
        names = {CRM: NAME_FIELD[module][0], DESK: NAME_FIELD[module][1]}
        for source, record_id in intents:
            source_record = snap.records[source].get(record_id)
            target = DESK if source == CRM else CRM
            name = source_record.data.get(names[source]) if source_record else None
            if not name:
                continue
            if target in snap.full:
                found = [r for r in snap.records[target].values()
                         if str(r.data.get(names[target], "")).lower() == str(name).lower()]
            else:
                found = self._find(target, module, names[target], [str(name)])
            snap.recovered[(source, record_id)] = [r for r in found
                                                  if r.id not in paired[target]]

    def _find(self, side: str, module: str, field_name: str, values: list[str]) -> list[Record]:
        if side == CRM:
            return self.crm.find_records(module, field_name, values)
        return self.desk.find_records(self.mappings[module].kind, field_name, values)

    # planning

    def plan_input(self, snap: Snapshot) -> PlanInput:
        module = snap.module
        mapping = self.mappings[module]
        links = AccountLinks(self.sync.pairs("Accounts"))
        unlinked = self.sync.unlinked(module)

        def item(side: str, record: Record) -> Item:
            values = canonical(mapping, side, record.data, links.canonical)
            return Item(record.id, values, fingerprint(values), record.modified_time)

        changes = {side: Changes({i: item(side, r) for i, r in snap.records[side].items()},
                                 set(snap.deleted[side])) for side in (CRM, DESK)}
        pairs = self.sync.pairs(module)
        paired_ids = {CRM: set(pairs), DESK: {p.desk_id for p in pairs.values()}}
        # unpaired records by match key: what a new record may be linked to
        candidates: dict[tuple[str, str], list[Item]] = {}
        for side in (CRM, DESK):
            seen: dict[str, Item] = {}
            for record in [*snap.candidates[side], *snap.records[side].values()]:
                if record.id in seen or record.id in paired_ids[side] or \
                        (side, record.id) in unlinked:
                    continue
                seen[record.id] = changes[side].changed.get(record.id) or item(side, record)
            for entry in seen.values():
                key = match_key(module, entry.values)
                if key:
                    candidates.setdefault((side, key), []).append(entry)
        return PlanInput(
            module=module, policy=self.policy, pairs=pairs,
            crm=changes[CRM], desk=changes[DESK],
            current={k: item(k[0], r) for k, r in snap.current.items()},
            candidates=candidates,
            recovered={k: [item(DESK if k[0] == CRM else CRM, r) for r in v]
                       for k, v in snap.recovered.items()},
            unlinked=unlinked, intents=self.sync.intents(module),
            conflicts=self.sync.conflict_ids(module))

    def check_deletes(self, deletes: int) -> None:
        """The mass-delete guard: runs before anything is written."""
        if not deletes or self.options.force:
            return
        limit, percent = parse_max_delete(self.options.max_delete)
        base = sum(len(self.sync.pairs(m)) for m in self.options.modules)
        allowed = base * limit / 100 if percent else limit
        if deletes > allowed:
            raise AbortedRun(
                f"this run would delete {deletes} of {base} synced records, more than "
                f"--max-delete {self.options.max_delete}; nothing was changed. Check the "
                "deletions with --dry-run, then re-run with --force or a higher --max-delete")

    # the run

    def execute(self) -> dict[str, Any]:
        started = time.monotonic()
        modules = self.options.modules
        snapshots = {m: self.snapshot(m) for m in modules}
        # Every module is planned before anything is written, for the mass-delete guard.
        # A later module is planned again once the ones before it ran (its account links
        # may have changed), so only the first plan is kept, unless this is a dry run.
        plans: dict[str, list[Action]] = {}
        deletes = total = 0
        for module in modules:
            self.progress.phase(f"Planning {module}")
            actions = plan(self.plan_input(snapshots[module]))
            deletes += sum(1 for a in actions if a.kind == "delete")
            total += len(actions)
            if module == modules[0] or self.options.dry_run:
                plans[module] = actions
            del actions
        self.check_deletes(deletes)
        report: dict[str, Any] = {"dry_run": self.options.dry_run, "modules": {}}
        if self.options.dry_run:
            for module, actions in plans.items():
                report["modules"][module] = {"counts": summarize(actions),
                                             "actions": [a.to_dict() for a in actions]}
        else:
            done = 0
            self.progress.phase("Writing")

            def tick(n: int) -> None:
                nonlocal done
                done += n
                self.progress.advance(done, total)

            for module in modules:
                snap = snapshots.pop(module)
                actions = plans.pop(module) if module in plans else plan(self.plan_input(snap))
                modified = {(side, r.id): r.modified_time for side in (CRM, DESK)
                            for r in snap.records[side].values()}
                executor = Executor(self.crm, self.desk, self.sync, self.mappings[module],
                                    AccountLinks(self.sync.pairs("Accounts")), modified, tick)
                outcome = executor.apply(actions)
                del actions, executor
                with self.sync.store.transaction():
                    for side, cursor in snap.cursors.items():
                        self.sync.set_cursor(module, side, cursor)
                    for side, record_id in snap.gone:
                        self.sync.clear_error(module, side, record_id)
                        self.sync.clear_intent(module, side, record_id)
                report["modules"][module] = {
                    "counts": outcome.counts,
                    "failed": [{"action": a.kind, "side": a.target, "crm_id": a.crm_id,
                                "desk_id": a.desk_id, "error": e} for a, e in outcome.failed]}
        report["conflicts"] = len(self.sync.conflicts())
        report["errors"] = len(self.sync.errors())
        report["api_calls"] = {"crm": self.crm.calls, "desk": self.desk.calls,
                               "crm_writes": self.crm.writes, "desk_writes": self.desk.writes}
        report["duration_seconds"] = round(time.monotonic() - started, 3)
        return report
