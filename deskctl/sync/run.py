"""One sync run: read what changed on both sides since the cursors, plan, guard, apply,
then move the cursors. Modules run in order (Accounts, then Contacts) so a Contact's
account link can follow the Account pairs made in the same run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.backends.meter import CallMeter, since
from deskctl.models.records import Record
from deskctl.models.sync import CRM, DESK, SIDES, Side, other
from deskctl.progress import Progress
from deskctl.state.sync import SyncStore
from deskctl.sync.catchup import CatchUp, Check, later
from deskctl.sync.counting import Counted
from deskctl.sync.execute import AccountLinks, Executor
from deskctl.sync.gather import Gatherer, Snapshot
from deskctl.sync.guards import check_deletes
from deskctl.sync.mapping import ModuleMapping, canonical, fingerprint, match_key
from deskctl.sync.merge import Policy
from deskctl.sync.plan import Action, Changes, Item, PlanInput, plan, summarize
from deskctl.sync.side import SideApi, sides_for

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
    max_calls: int | None = None  # API calls this run may make (None: no budget)


Feeds = dict[str, Callable[[], Iterable[Any]]]


class SyncRun:
    def __init__(self, crm: CrmApi, desk: DeskApi, sync: SyncStore,
                 mappings: dict[str, ModuleMapping], policy: Policy, options: RunOptions,
                 progress: Progress | None = None, meter: CallMeter | None = None) -> None:
        self.meter = meter or CallMeter()
        self.crm: Any = Counted(crm, CRM, self.meter)
        self.desk: Any = Counted(desk, DESK, self.meter)
        self.sync = sync
        self.mappings = mappings
        self.policy = policy
        self.options = options
        self.progress = progress or Progress()
        #: account ids read as not there this run: their contacts read as having no account
        self.gone: set[tuple[Side, str]] = set()

    # reading

    def sides(self, module: str) -> dict[Side, SideApi]:
        mapping = self.mappings[module]
        return sides_for(self.crm, self.desk, module, mapping.kind,
                         [f.crm for f in mapping.fields])

    def _since(self, cursor: str | None) -> str | None:
        return None if self.options.full else self._back(cursor)

    def _back(self, cursor: str | None) -> str | None:
        """Where a read from ``cursor`` starts: the overlap earlier, for writes committed
        late and for clock skew."""
        if cursor is None:
            return None
        return clock.iso(clock.parse_time(cursor) - timedelta(seconds=self.options.overlap_seconds))

    @property
    def _concurrent(self) -> bool:
        """Whether the backend takes concurrent calls (Desk concurrency above 1: HTTP)."""
        return int(getattr(self.desk, "concurrency", 1)) > 1

    def snapshots(self, modules: tuple[str, ...]) -> dict[str, Snapshot]:
        """What changed on both sides of each module since its cursors. Each read's next
        cursor is the time it started (even when it found nothing); it is saved only once
        the module's writes are recorded, so a killed run reads the same again.

        A backend that takes concurrent calls reads the four feeds (CRM and Desk changes,
        both deleted feeds) of every module at once, each whole; the modules are matched
        in order (the state store is used from this thread only) while the later ones'
        feeds are still being read. Otherwise each feed is read lazily, after the one
        before is consumed, one module after the other: a local first sync of 100,000
        records holds one listing at a time."""
        cursors = {m: self.sync.cursors(m) for m in modules}
        prepared = {m: self._feeds(m, cursors[m]) for m in modules}
        if not self._concurrent:
            return {m: self._take(snap, cursors[m], (
                (key, clock.now_iso(), feed()) for key, feed in feeds.items()))
                for m, (snap, feeds) in prepared.items()}
        for module in modules:  # the metadata the feeds need, read once before they run
            self.crm.module(module)
            self.desk.fields(self.mappings[module].kind)

        def whole(feed: Callable[[], Iterable[Any]]) -> tuple[str, list[Any]]:
            started = clock.now_iso()
            return started, list(feed())

        with ThreadPoolExecutor(sum(len(feeds) for _s, feeds in prepared.values())) as pool:
            futures = {m: {key: pool.submit(whole, feed) for key, feed in feeds.items()}
                       for m, (_snap, feeds) in prepared.items()}
            return {m: self._take(snap, cursors[m], (
                (key, *future.result()) for key, future in futures[m].items()))
                for m, (snap, _feeds) in prepared.items()}

    def _feeds(self, module: str, cursors: dict[str, str]) -> tuple[Snapshot, Feeds]:
        snap = Snapshot(module)
        sides = self.sides(module)
        feeds: Feeds = {}
        for side in SIDES:
            since = self._since(cursors.get(side))
            if since is None:
                snap.full.add(side)
            feeds[side] = partial(sides[side].changes, since)
            feeds[f"{side}-deleted"] = partial(sides[side].deleted,
                                               self._since(cursors.get(f"{side}-deleted")))
        return snap, feeds

    def _take(self, snap: Snapshot, cursors: dict[str, str],
              fetched: Iterator[tuple[str, str, Iterable[Any]]]) -> Snapshot:
        """Fills ``snap`` from (feed, when its read started, what it read), then matches."""
        module = snap.module
        read = {CRM: 0, DESK: 0, "deleted": 0}
        self.progress.phase(f"Reading {module}", read)
        for key, started, items in fetched:
            owner: Side = CRM if key.startswith(CRM) else DESK
            for item in items:
                if key == owner:
                    snap.records[owner][item.id] = item
                    read[owner] += 1
                else:
                    snap.deleted[owner].add(item.id)
                    read["deleted"] += 1
                self.progress.phase(f"Reading {module}", read)
            snap.cursors[key] = later(started, cursors.get(key))
        self.progress.phase(f"Matching {module}")
        Gatherer(self.sync, self.sides(module), self.mappings[module],
                 self._canonical(module)).gather(snap)
        return snap

    def _links(self) -> AccountLinks:
        return AccountLinks.of(self.sync, self.gone)

    def _canonical(self, module: str) -> Any:
        mapping = self.mappings[module]
        links = self._links()
        return lambda side, record: canonical(mapping, side, record.data, links.canonical)

    def _settle_links(self, snap: Snapshot) -> None:
        """Account ids no current Account pair translates, on the records a plan reads,
        are read (batched, per side): one that is there is not synced yet, or no longer
        (a former pair's: the contact waits, reported); one that is not (deleted by this
        run, --on-delete propagate, or earlier, its id left on the contact:
        docs/deletions.md) reads as no account from now on."""
        lookups = self.mappings[snap.module].lookups
        if not lookups:
            return
        links = self._links()
        records = [*((side, r) for side in SIDES
                     for r in (*snap.records[side].values(), *snap.candidates[side])),
                   *((key[0], r) for key, r in snap.current.items()),
                   *((other(key[0]), r) for key, (r, _p) in snap.recovered.items())]
        wanted: dict[Side, set[str]] = {CRM: set(), DESK: set()}
        for side, record in records:
            for field in lookups:
                value = record.data.get(field.name(side))
                if value and not links.resolves(side, str(value)):
                    wanted[side].add(str(value))
        accounts = self.sides("Accounts")
        for side in SIDES:
            # a Desk answer may carry isTrashed / isDeleted (zoho-desk-oas Account.json)
            there = {r.id for r in accounts[side].get_many(sorted(wanted[side]))
                     if not (r.data.get("isTrashed") or r.data.get("isDeleted"))}
            self.gone |= {(side, i) for i in wanted[side] - there}

    def _dangling(self, snap: Snapshot, record: Record, values: dict[str, Any]) -> None:
        """A paired CRM contact still naming a deleted account (the CRM documents nothing
        of its contacts; the local CRM keeps the id) is no edit: the field reads as what it
        held at the last sync, not as a clearing nobody made. Desk takes a trashed account off its
        contacts, so a Desk record read naming one has none now (docs/deletions.md)."""
        pair = snap.pairs.get(record.id)
        if pair is None or not pair.base:
            return
        last = pair.last(CRM)  # a write decided and not made yet is still owed
        for field in self.mappings[snap.module].lookups:
            if (CRM, str(record.data.get(field.crm))) in self.gone:
                values[field.crm] = last.get(field.crm)

    # planning

    def plan_input(self, snap: Snapshot, settle: bool = True) -> PlanInput:
        """``settle``: first read the account ids no pair translates (_settle_links); not
        for a plan made before the Account pairs it depends on are written."""
        module = snap.module
        if settle:
            self._settle_links(snap)
        values_of = self._canonical(module)
        unlinked = self.sync.unlinked(module)

        def item(side: Side, record: Record) -> Item:
            values = values_of(side, record)
            if side == CRM and self.gone:
                self._dangling(snap, record, values)
            return Item(record.id, values, fingerprint(values), record.modified_time,
                        record.created_time)

        changes = {side: Changes({i: item(side, r) for i, r in snap.records[side].items()},
                                 set(snap.deleted[side])) for side in SIDES}
        paired = {side: snap.paired(side) for side in SIDES}
        # unpaired records by match key: what a new record may be linked to
        candidates: dict[tuple[Side, str], list[Item]] = {}
        for side in SIDES:
            seen: dict[str, Item] = {}
            for record in [*snap.candidates[side], *snap.records[side].values()]:
                if record.id in seen or record.id in paired[side] or \
                        (side, record.id) in unlinked or (side, record.id) in snap.reserved:
                    continue
                seen[record.id] = changes[side].changed.get(record.id) or item(side, record)
            for entry in seen.values():
                key = match_key(module, entry.values)
                if key:
                    candidates.setdefault((side, key), []).append(entry)
        return PlanInput(
            module=module, policy=self.policy, pairs=snap.pairs,
            crm=changes[CRM], desk=changes[DESK],
            current={k: item(k[0], r) for k, r in snap.current.items()},
            candidates=candidates,
            recovered={k: (item(DESK if k[0] == CRM else CRM, r), payload)
                       for k, (r, payload) in snap.recovered.items()},
            unsure=snap.unsure, reserved=snap.reserved, unlinked=unlinked,  # type: ignore[arg-type]
            conflicts=self.sync.open_conflicts(module))

    def check_deletes(self, deletes: dict[str, int], made: dict[str, int]) -> None:
        """The mass-delete guard, per module: runs before anything is written. ``made``:
        the pairs of lost creates (gather._orphaned), the run's pairs as much as stored
        ones."""
        if self.options.force:
            return
        counts = self.sync.link_counts()
        check_deletes(self.options.max_delete, deletes,
                      {m: counts.get(m, 0) + made.get(m, 0) for m in deletes})

    # the run

    def execute(self) -> dict[str, Any]:
        started = time.monotonic()
        calls_before = self.meter.figures()
        modules = self.options.modules
        snapshots = self.snapshots(modules)
        # Every module is planned before anything is written, for the mass-delete guard.
        # A later module is planned again once the ones before it ran (its account links
        # may have changed), so only the first plan is kept, unless this is a dry run.
        plans: dict[str, list[Action]] = {}
        deletes: dict[str, int] = {}
        total = 0
        for module in modules:
            self.progress.phase(f"Planning {module}")
            actions = plan(self.plan_input(snapshots[module], settle=module == modules[0]))
            deletes[module] = sum(1 for a in actions if a.kind == "delete")
            total += len(actions)
            if module == modules[0] or self.options.dry_run:
                plans[module] = actions
            del actions
        self.check_deletes(deletes, {m: len(snap.made) for m, snap in snapshots.items()})
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

            checks: list[Check] = []
            for module in modules:
                snap = snapshots.pop(module)
                actions = plans.pop(module) if module in plans else plan(self.plan_input(snap))
                executor = Executor(self.sides(module), self.sync, self.mappings[module],
                                    self._links(), self.policy, tick)
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
                wrote = [side for side in SIDES if any(outcome.counts.get(f"{kind}->{side}")
                                                       for kind in ("create", "update"))]
                if wrote:
                    checks.append(Check(module, {side: snap.records[side] for side in wrote},
                                        dict(snap.cursors), clock.fine_now_iso()))
                del snap
            if checks:
                CatchUp(self.sync, self.sides, self._canonical, self._back,
                        timedelta(seconds=self.options.overlap_seconds), self._concurrent,
                        self.progress).run(checks)
        left = self.sync.outstanding()
        if self.options.dry_run:  # what the run would leave: the store changed by the plan
            left = left.after((a for actions in plans.values() for a in actions),
                              ((m, *g) for m, snap in snapshots.items() for g in snap.gone))
        report["conflicts"], report["errors"] = len(left.conflicts), len(left.errors)
        report["api_calls"] = since(self.meter.figures(), calls_before)
        report["duration_seconds"] = round(time.monotonic() - started, 3)
        return report
