"""The sync against random histories: a clock that moves (DESKCTL_NOW, so cursors filter),
each conflict policy and --on-delete mode, Accounts and Contacts created, edited (match keys
included) and deleted on either side between runs, and runs killed at random batch
boundaries (real `deskctl sync run` processes stopped by DESKCTL_TEST_EXIT_AFTER).

After every run that finishes, and after a final one:
- no duplicate: each record on one pair at most, every record paired (or kept apart after a
  deletion), no match key twice on a side (the test never makes one twice itself), no
  record made twice (a tag set at creation and never edited is never twice on a side);
- convergence: every pair agrees on its mapped fields (but a manual policy's open
  conflicts), and a second run writes nothing;
- no lost edit: on a pair synced at the last finished run, a field edited on one side since
  is on both; edited on both, the policy's winner (manual: each keeps its value, a conflict
  is open); an edited record is never deleted. Where a killed run came after such an edit,
  it may have synced it already, so the expectation is looser: one of the edits wins.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from deskctl import clock
from tests.sync.conftest import SyncWorld, make_world
from tests.sync.test_processes import env_for

#: module -> Desk collection, (CRM field, Desk field) pairs the test writes
FIELDS = {"Contacts": ("contacts", (("First_Name", "firstName"), ("Last_Name", "lastName"),
                                    ("Email", "email"), ("Phone", "phone"))),
          "Accounts": ("accounts", (("Account_Name", "accountName"), ("Phone", "phone"),
                                    ("Website", "website")))}
#: a Contact's account (CRM lookup, Desk id): written by test_stateful_v2_variants
LINK = ("Account_Name", "accountId")
KEY = {"Contacts": "Email", "Accounts": "Account_Name"}
#: set once when the test makes a record, never edited: a copy the sync made carries it, so
#: a record made twice shows as the same tag twice on one side, whatever else was edited
TAG = {"Contacts": "First_Name", "Accounts": "Website"}
EDITED = {"Contacts": ("Last_Name", "Email", "Phone"), "Accounts": ("Account_Name", "Phone")}
PHONES = ("+1 100", "+1 200", None)
SIDES = ("crm", "desk")
START = datetime(2026, 6, 1, tzinfo=timezone.utc)
MISSING = object()
Ref = tuple[str, str, str]  # (side, module, record id)


class SyncHistory(RuleBasedStateMachine):
    mode = "bidirectional"

    @initialize(conflict=st.sampled_from(["newest", "crm-wins", "desk-wins", "manual"]),
                on_delete=st.sampled_from(["propagate", "unlink"]))
    def start(self, conflict: str, on_delete: str) -> None:
        self._start(conflict, on_delete)

    def _start(self, conflict: str, on_delete: str) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.home = Path(self.tmp.name)
        self.now = START
        self.conflict = conflict
        self._clock()
        self.world: SyncWorld | None = make_world(self.home, self.mode,
                                                  conflict=conflict, on_delete=on_delete)
        self.step = 0
        self.serial = 0
        self.made: set[Ref] = set()  # made by the test (the rest by the sync)
        self.deleted: set[Ref] = set()  # deleted by the test since the last finished run
        self.edits: dict[Ref, dict[str, Any]] = {}  # last values since the last finished run
        self.first_edit: dict[Ref, int] = {}  # step of the first of those edits
        self.last_kill = -1  # step of the last killed run since the last finished run
        self.baseline: dict[Ref, dict[str, Any]] = {}  # values at the last finished run
        self.synced: dict[str, set[tuple[str, str]]] = {m: set() for m in FIELDS}
        for module in FIELDS:  # something synced to edit from the first step on
            for side in SIDES:
                self.create(module, side, PHONES[0])
        self.run_clean()

    def teardown(self) -> None:
        if getattr(self, "world", None) is not None:
            try:
                self.run_clean()  # the final run after any history
            finally:
                self._close()
        if hasattr(self, "tmp"):
            self.tmp.cleanup()
        os.environ.pop("DESKCTL_NOW", None)

    # the world

    def _clock(self) -> None:
        os.environ["DESKCTL_NOW"] = clock.iso(self.now)

    def _close(self) -> None:
        if self.world is not None:
            self.world.backend.close()
            self.world.state.close()
            self.world = None

    @property
    def w(self) -> SyncWorld:
        if self.world is None:
            self.world = make_world(self.home, mode=None)
        return self.world

    def records(self, side: str, module: str) -> dict[str, Any]:
        api = self.w.crm if side == "crm" else self.w.desk
        name = module if side == "crm" else FIELDS[module][0]
        return {r.id: r for r in api.list_records(name)}

    def values(self, side: str, module: str, record: Any) -> dict[str, Any]:
        i = 0 if side == "crm" else 1
        out = {}
        for pair in FIELDS[module][1]:
            value = record.data.get(pair[i]) or None
            out[pair[0]] = value.lower() if pair[0] == "Email" and value else value
        return out

    def canon(self, value: Any) -> Any:
        """A value as compared after a run (AccountLinkHistory: account references)."""
        return value

    def fresh(self, field: str) -> str:
        self.serial += 1
        n = self.serial
        return {"Email": f"p{n}@x.example", "Last_Name": f"Name {n}", "First_Name": f"Id {n}",
                "Account_Name": f"Firm {n}", "Website": f"https://w{n}.example"}[field]

    def write(self, side: str, module: str, record_id: str | None,
              values: dict[str, Any]) -> str:
        names = dict((*FIELDS[module][1], *([LINK] if module == "Contacts" else [])))
        if side == "crm":
            if record_id is None:
                [result] = self.w.crm.create_records(module, [values])
            else:
                [result] = self.w.crm.update_records(module, [(record_id, values)])
            assert result.ok, result.error
            return str(result.id or record_id)
        data = {names[k]: v for k, v in values.items()}
        kind = FIELDS[module][0]
        if record_id is None:
            return str(self.w.desk.create_record(kind, data).id)
        self.w.desk.update_record(kind, record_id, data)
        return record_id

    # rules: the clock and the data

    @rule(seconds=st.sampled_from([1, 7, 600]))
    def tick(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        self._clock()

    @rule(module=st.sampled_from(sorted(FIELDS)), side=st.sampled_from(SIDES),
          phone=st.sampled_from(PHONES))
    def create(self, module: str, side: str, phone: str | None) -> None:
        self.step += 1
        values = {name: self.fresh(name) for name, _ in FIELDS[module][1] if name != "Phone"}
        values["Phone"] = phone
        record_id = self.write(side, module, None, values)
        self.made.add((side, module, record_id))

    @rule(edits=st.lists(st.tuples(st.sampled_from(sorted(FIELDS)), st.sampled_from(SIDES),
                                   st.integers(0, 20), st.integers(0, 2),
                                   st.sampled_from(PHONES)), min_size=1, max_size=3))
    def edit(self, edits: list[tuple[str, str, int, int, str | None]]) -> None:
        for module, side, pick, which, phone in edits:
            self.edit_one(module, side, pick, which, phone)

    def edit_one(self, module: str, side: str, pick: int, which: int, phone: str | None
                 ) -> None:
        records = self.records(side, module)
        if not records:
            return
        record_id = sorted(records)[pick % len(records)]
        field = EDITED[module][which % len(EDITED[module])]
        value = phone if field == "Phone" else self.fresh(field)
        if self.values(side, module, records[record_id])[field] == value:
            return  # not an edit
        self.step += 1
        self.write(side, module, record_id, {field: value})
        ref = (side, module, record_id)
        self.edits.setdefault(ref, {})[field] = value
        self.first_edit.setdefault(ref, self.step)

    @rule(module=st.sampled_from(sorted(FIELDS)), pick=st.integers(0, 20),
          which=st.tuples(st.integers(0, 2), st.integers(0, 2)),
          phones=st.tuples(st.sampled_from(PHONES), st.sampled_from(PHONES)))
    def edit_pair(self, module: str, pick: int, which: tuple[int, int],
                  phones: tuple[str | None, str | None]) -> None:
        """Both records of one pair edited: the same field or two, the same value or not."""
        pairs = sorted((p.crm_id, p.desk_id) for p in self.w.store.pairs(module).values())
        if not pairs:
            return
        for side, record_id, n, phone in zip(SIDES, pairs[pick % len(pairs)], which, phones,
                                             strict=True):
            records = self.records(side, module)
            if record_id in records:
                self.edit_one(module, side, sorted(records).index(record_id), n, phone)

    @rule(module=st.sampled_from(sorted(FIELDS)), side=st.sampled_from(SIDES),
          pick=st.integers(0, 20))
    def delete(self, module: str, side: str, pick: int) -> None:
        records = self.records(side, module)
        if not records:
            return
        self.step += 1
        record_id = sorted(records)[pick % len(records)]
        self.deleting(side, module, record_id)
        if side == "crm":
            self.w.crm.delete_records(module, [record_id])
        else:
            self.w.desk.delete_record(FIELDS[module][0], record_id)
        self.deleted.add((side, module, record_id))
        self.edits.pop((side, module, record_id), None)

    def deleting(self, side: str, module: str, record_id: str) -> None:
        """Before the test deletes a record (AccountLinkHistory: its contacts let go)."""

    # rules: runs

    @rule()
    def sync(self) -> None:
        self.run_clean()

    @rule(choice=st.integers(0, 40))
    def sync_killed(self, choice: int) -> None:
        """A real process that exits (like a kill) at one of the batch boundaries the run
        will reach (as a dry run plans it): pairs recorded, or a write batch sent or
        recorded, in Accounts or Contacts."""
        plan = self.w.run(dry_run=True, force=True)["modules"]
        points: list[str] = []
        for module in ("Accounts", "Contacts"):
            points.append("state")
            counts = plan[module]["counts"]
            for side in SIDES:
                for kind in ("create", "update", "delete"):
                    if counts.get(f"{kind}->{side}"):
                        points += [f"{kind}-{side}-sent", f"{kind}-{side}"]
        point = points[choice % len(points)]
        nth = points[:choice % len(points) + 1].count(point)
        before = self.before()
        self._close()
        env = {**env_for(self.home), "DESKCTL_NOW": clock.iso(self.now),
               "DESKCTL_TEST_EXIT_AFTER": f"{point}:{nth}"}
        proc = subprocess.run([sys.executable, "-m", "deskctl", "-o", "json", "sync", "run",
                               "--force"], env=env, capture_output=True, text=True, timeout=120)
        if proc.returncode == 99:
            self.step += 1
            self.last_kill = self.step
            return
        # the point was not reached: it finished (3: a manual policy's open conflicts)
        assert proc.returncode in (0, 3), proc.stderr
        assert json.loads(proc.stdout)["errors"] == 0, proc.stdout
        self.finished(before)

    @precondition(lambda self: getattr(self, "conflict", "") == "manual")
    @rule(pick=st.integers(0, 5), take=st.sampled_from(SIDES))
    def resolve(self, pick: int, take: str) -> None:
        conflicts = self.w.store.conflicts()
        if not conflicts:
            return
        conflict = conflicts[pick % len(conflicts)]
        module = conflict["module"]
        if conflict["crm_id"] not in self.records("crm", module) or \
                conflict["desk_id"] not in self.records("desk", module):
            return  # a deletion: the next run ends the pair first
        self.w.service.resolve(conflict["id"], take)
        refs = [("crm", module, conflict["crm_id"]), ("desk", module, conflict["desk_id"])]
        chosen = conflict["crm"] if take == "crm" else conflict["desk"]
        loser = refs[1] if take == "crm" else refs[0]
        for side, _, record_id in refs:
            now = self.values(side, module, self.records(side, module)[record_id])
            for field in conflict["fields"]:
                # the loser's edits of these fields are overwritten by this choice
                assert now[field] == chosen[field] or \
                    (side, module, record_id) != loser, f"resolve --take {take}: {field}"
                # (a record a killed run made has no baseline yet)
                self.baseline.setdefault((side, module, record_id), {})[field] = chosen[field]
                if (side, module, record_id) == loser:
                    self.edits.get(loser, {}).pop(field, None)

    # checks

    def before(self) -> dict[str, Any]:
        """What the run will see: each record's modified time, the open conflicts."""
        return {"modified": {(side, m, i): r.modified_time for m in FIELDS for side in SIDES
                             for i, r in self.records(side, m).items()},
                "conflicts": {m: self.w.store.open_conflicts(m) for m in FIELDS}}

    def run_clean(self) -> None:
        before = self.before()
        report = self.w.run(force=True)  # the mass-delete guard is tested elsewhere
        assert report["errors"] == 0, self.w.service.errors()
        self.finished(before)

    def finished(self, before: dict[str, Any]) -> None:
        again = self.w.run(force=True)
        assert self.w.writes(again) == 0, f"a second run still writes: {again['modules']}"
        for module in FIELDS:
            self.check_module(module, before)
        self.baseline = {(side, m, i): self.values(side, m, r) for m in FIELDS
                         for side in SIDES for i, r in self.records(side, m).items()}
        self.synced = {m: {(p.crm_id, p.desk_id) for p in self.w.store.pairs(m).values()}
                       for m in FIELDS}
        self.edits.clear()
        self.first_edit.clear()
        self.deleted.clear()
        self.last_kill = -1

    def check_module(self, module: str, before: dict[str, Any]) -> None:
        store = self.w.store
        pairs = store.pairs(module)
        records = {side: self.records(side, module) for side in SIDES}
        conflicts = store.open_conflicts(module)
        kept = store.unlinked(module)
        desk_ids = [p.desk_id for p in pairs.values()]
        assert len(desk_ids) == len(set(desk_ids)), "a Desk record on two pairs"
        paired = {"crm": set(pairs), "desk": set(desk_ids)}
        for side in SIDES:
            for field in (KEY[module], TAG[module]):
                keys = [self.values(side, module, r)[field] for r in records[side].values()]
                keys = [str(k).lower() for k in keys if k]
                assert len(keys) == len(set(keys)), f"{module}: {field} twice in {side}"
            for record_id in records[side]:
                assert record_id in paired[side] or (side, record_id) in kept or \
                    self.unpaired_ok(side, module, record_id), \
                    f"{module}: {side} {record_id} is on no pair (made by " \
                    f"{'the test' if (side, module, record_id) in self.made else 'the sync'})"
        for pair in pairs.values():
            assert pair.crm_id in records["crm"] and pair.desk_id in records["desk"], \
                f"{module}: a pair of a deleted record"
            crm = self.values("crm", module, records["crm"][pair.crm_id])
            desk = self.values("desk", module, records["desk"][pair.desk_id])
            open_fields = conflicts.get(pair.crm_id, {})
            for field in crm:
                if field not in open_fields:
                    assert crm[field] == desk[field], f"{module}.{field} differs on a pair"
            if (pair.crm_id, pair.desk_id) in self.synced[module]:
                self.check_edits(module, pair.crm_id, pair.desk_id, crm, desk, before)
        for ref, _ in self.edits.items():
            side, mod, record_id = ref
            if mod == module and not self.tainted(ref) and self.edited(ref):
                assert record_id in records[side], f"{module}: an edited {side} record deleted"

    def unpaired_ok(self, side: str, module: str, record_id: str) -> bool:
        """A record that may be on no pair (OneWayHistory: Desk's own)."""
        return False

    def tainted(self, *refs: Ref) -> bool:
        """A run was killed after one of these records was edited: it may have synced
        that edit already, and an edit after it is then a new one."""
        return any(self.first_edit.get(ref, 1 << 30) <= self.last_kill for ref in refs)

    def edited(self, ref: Ref, field: str | None = None) -> Any:
        """The last value of an edit since the last finished run that changed the record
        (MISSING: none)."""
        edits = self.edits.get(ref, {})
        base = self.baseline.get(ref, {})
        changed = {f: self.canon(v) for f, v in edits.items()
                   if self.canon(v) != self.canon(base.get(f, MISSING))}
        if field is None:
            return changed
        return changed.get(field, MISSING)

    def check_edits(self, module: str, crm_id: str, desk_id: str, crm: dict[str, Any],
                    desk: dict[str, Any], before: dict[str, Any]) -> None:
        refs = (("crm", module, crm_id), ("desk", module, desk_id))
        for field in crm:
            edits = [self.edited(ref, field) for ref in refs]
            if self.tainted(*refs):
                # a killed run may have synced an edit: then the later one wins, whichever
                raw = [self.canon(self.edits.get(ref, {}).get(field, MISSING)) for ref in refs]
                candidates = [e for e in raw if e is not MISSING]
                if candidates and (self.conflict != "manual" or crm[field] == desk[field]):
                    assert crm[field] in candidates, f"{module}.{field}: lost both edits"
                continue
            olds = [self.canon(self.baseline[ref][field]) for ref in refs]
            want = [old if e is MISSING else e for e, old in zip(edits, olds, strict=True)]
            both = all(e is not MISSING for e in edits) and want[0] != want[1]
            was_open = field in before["conflicts"][module].get(crm_id, {})
            if self.conflict == "manual" and (both or was_open):
                assert [crm[field], desk[field]] == want, f"{module}.{field}: manual merged"
                continue
            if both:
                won = self.winner(refs, before)
                expected = want[0] if won == "crm" else want[1]
            else:
                expected = want[0] if edits[0] is not MISSING else want[1]
            assert crm[field] == desk[field] == expected, \
                f"{module}.{field}: edit lost ({self.conflict}): {edits} -> {crm[field]}"

    def winner(self, refs: tuple[Ref, Ref], before: dict[str, Any]) -> str:
        if self.conflict in ("crm-wins", "desk-wins"):
            return self.conflict.split("-")[0]
        crm, desk = (clock.parse_time(before["modified"][ref]) for ref in refs)
        return "desk" if desk > crm else "crm"  # a tie: the CRM


TestSyncHistories = SyncHistory.TestCase
#: the same histories on every run (CI); DESKCTL_STATEFUL_EXAMPLES=N explores N random ones
_EXPLORE = int(os.environ.get("DESKCTL_STATEFUL_EXAMPLES", "0"))
TestSyncHistories.settings = settings(
    max_examples=_EXPLORE or 100, stateful_step_count=30, deadline=None,
    derandomize=not _EXPLORE, database=None, suppress_health_check=[HealthCheck.too_slow])
