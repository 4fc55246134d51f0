"""Random creates, edits and deletes on both sides, interleaved with sync runs, in both modes.
After a final run: every pair agrees, nothing is duplicated, no edit is lost."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.sync.conftest import SyncWorld, make_world

NAMES = st.sampled_from(["Ames", "Berg", "Cole", "Diaz", "Eng"])
PHONES = st.sampled_from([None, "+1 100", "+1 200", "+1 300"])
counter = itertools.count()


class SyncMachine(RuleBasedStateMachine):
    mode = "bidirectional"

    @initialize()
    def start(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.world: SyncWorld = make_world(Path(self.tmp.name), self.mode,
                                           conflict="crm-wins")
        # edits since the last run: (side, id) -> last values written
        self.edits: dict[tuple[str, str], dict[str, Any]] = {}
        self.desk_only: dict[str, dict[str, Any]] = {}  # one-way: Desk records never paired

    def teardown(self) -> None:
        self.world.backend.close()
        self.world.state.close()
        self.tmp.cleanup()

    def _ids(self, side: str) -> list[str]:
        if side == "crm":
            return [r.id for r in self.world.crm.list_records("Contacts")]
        return [r.id for r in self.world.desk.list_records("contacts")]

    @rule(side=st.sampled_from(["crm", "desk"]), name=NAMES, phone=PHONES)
    def create(self, side: str, name: str, phone: str | None) -> None:
        email = f"u{next(counter)}@x.example"
        if side == "crm":
            self.world.crm_create("Contacts", Last_Name=name, Email=email, Phone=phone)
        else:
            record = self.world.desk.create_record(
                "contacts", {"lastName": name, "email": email, "phone": phone})
            if self.mode == "one-way":
                self.desk_only[record.id] = record.data

    @rule(side=st.sampled_from(["crm", "desk"]), pick=st.integers(0, 50), name=NAMES,
          phone=PHONES)
    def edit(self, side: str, pick: int, name: str, phone: str | None) -> None:
        ids = self._ids(side)
        if not ids:
            return
        record_id = ids[pick % len(ids)]
        if side == "crm":
            self.world.crm_update("Contacts", record_id, Last_Name=name, Phone=phone)
        else:
            data = self.world.desk.update_record("contacts", record_id,
                                                 {"lastName": name, "phone": phone}).data
            if record_id in self.desk_only:
                self.desk_only[record_id] = data
        self.edits[(side, record_id)] = {"Last_Name": name, "Phone": phone}

    @rule(side=st.sampled_from(["crm", "desk"]), pick=st.integers(0, 50))
    def delete(self, side: str, pick: int) -> None:
        ids = self._ids(side)
        if not ids:
            return
        record_id = ids[pick % len(ids)]
        if side == "crm":
            self.world.crm.delete_records("Contacts", [record_id])
        else:
            self.world.desk.delete_record("contacts", record_id)
            self.desk_only.pop(record_id, None)
        self.edits.pop((side, record_id), None)

    @rule()
    def sync(self) -> None:
        before = {(p.crm_id, p.desk_id) for p in self.world.store.pairs("Contacts").values()}
        report = self.world.run()
        assert report["errors"] == 0, self.world.service.errors()
        self.check_edits_kept(before)
        self.edits.clear()

    def check_edits_kept(self, before: set[tuple[str, str]]) -> None:
        """An edit on one side of a pair is on both sides after the run, unless the other
        side also changed (the policy chose) or the pair is gone."""
        pairs = {(p.crm_id, p.desk_id) for p in self.world.store.pairs("Contacts").values()}
        for crm_id, desk_id in before & pairs:
            crm_edit = self.edits.get(("crm", crm_id))
            desk_edit = self.edits.get(("desk", desk_id))
            crm = self.world.crm.get_record("Contacts", crm_id).data
            desk = self.world.desk.get_record("contacts", desk_id).data
            if crm_edit and not desk_edit:
                assert (desk.get("lastName"), desk.get("phone")) == \
                    (crm_edit["Last_Name"], crm_edit["Phone"])
            if desk_edit and not crm_edit and self.mode == "bidirectional":
                assert (crm.get("Last_Name"), crm.get("Phone")) == \
                    (desk_edit["Last_Name"], desk_edit["Phone"])

    @invariant()
    def no_duplicates(self) -> None:
        if not hasattr(self, "world"):
            return
        for side in ("crm", "desk"):
            records = (self.world.crm.list_records("Contacts") if side == "crm"
                       else self.world.desk.list_records("contacts"))
            emails = [(r.data.get("Email") or r.data.get("email")) for r in records]
            assert len(emails) == len(set(emails)), f"duplicate on {side}"

    def final_check(self) -> None:
        self.world.run()
        assert self.world.writes(self.world.run()) == 0, "a final rerun still writes"
        pairs = self.world.store.pairs("Contacts")
        kept_apart = self.world.store.unlinked("Contacts")
        for pair in pairs.values():
            crm = self.world.crm.get_record("Contacts", pair.crm_id).data
            desk = self.world.desk.get_record("contacts", pair.desk_id).data
            assert (crm.get("Last_Name"), crm.get("Email", "").lower(), crm.get("Phone")) == \
                (desk.get("lastName"), desk.get("email", "").lower(), desk.get("phone"))
        paired_crm = set(pairs)
        paired_desk = {p.desk_id for p in pairs.values()}
        for record_id in self._ids("crm"):
            assert record_id in paired_crm or ("crm", record_id) in kept_apart
        for record_id in self._ids("desk"):
            if self.mode == "bidirectional":
                assert record_id in paired_desk or ("desk", record_id) in kept_apart
            elif record_id in self.desk_only:
                assert self.world.desk.get_record("contacts", record_id).data == \
                    self.desk_only[record_id], "one-way touched a Desk-only record"


class OneWayMachine(SyncMachine):
    mode = "one-way"


def _with_final_check(machine: type[SyncMachine]) -> type[SyncMachine]:
    class Checked(machine):  # type: ignore[valid-type,misc]
        def teardown(self) -> None:
            if hasattr(self, "world"):
                self.final_check()
            super().teardown()

    Checked.__name__ = machine.__name__
    return Checked


TestBidirectional = _with_final_check(SyncMachine).TestCase
TestOneWay = _with_final_check(OneWayMachine).TestCase
TestBidirectional.settings = TestOneWay.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None)
