"""test_stateful_v2's histories, widened: Contacts' account links, and one-way mode.

AccountLinkHistory: a contact's account is set, changed or cleared on either side, contacts
are made with an account, accounts are created and deleted on either side (a contact whose
account the test deletes lets go of it and of its counterpart, as their owners would), and
a contact may point to an account no run has synced yet, or (in Desk, --on-delete
propagate) to one the next run deletes, its CRM counterpart deleted. The account is one
more field of the pair: it must agree (by the Account pairs; a Desk account that no longer
exists is none, docs/deletions.md) and an edit of it must not be lost, with kills at batch
boundaries. Contacts may also keep pointing to a deleted account or to its counterpart (a
forgotten pair is no edit of them). The two tests at the end are cases these histories
found, both fixed.

OneWayHistory: the same histories (account links included) in `--mode one-way` (conflict
policy crm-wins, the only one one-way takes), both --on-delete modes, kills. SPEC 4: "data
moves only from CRM to Desk": the sync never writes to the CRM (every CRM record is the
test's, with the test's values), every pair holds the CRM's values in Desk (a Desk edit of
a pair is restored), and a Desk record the test made (its keys match no CRM record) is
left alone: never paired, changed or deleted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from tests.sync.conftest import make_world
from tests.sync.test_stateful_v2 import FIELDS, LINK, SIDES, Ref, SyncHistory


def other(side: str) -> str:
    return "desk" if side == "crm" else "crm"


class AccountLinkHistory(SyncHistory):
    def values(self, side: str, module: str, record: Any) -> dict[str, Any]:
        out = super().values(side, module, record)
        if module == "Contacts":
            account = record.data.get(LINK[0] if side == "crm" else LINK[1])
            out[LINK[0]] = self.canon(account if side == "crm" or not account
                                      else f"desk:{account}")
        return out

    #: whose contacts keep pointing to an account the test deletes and its counterpart:
    #: both sides' (as far as the backends let them: see deleting), the deleting side's
    #: own, the counterpart's, or none (a forgotten pair is no edit of them)
    staying = "both"

    def canon(self, value: Any) -> Any:
        """An account reference as the CRM id of its pair now, or of the pair it was in
        when no pair has it now ('desk:<id>': a Desk account in neither; None: a Desk
        account that no longer exists)."""
        if isinstance(value, str) and value.startswith("desk:"):
            if not self.w.desk.get_many("accounts", [value[5:]]):
                return None  # gone: the sync reads it as none (docs/deletions.md)
            pairs = self.w.store.pair_map("Accounts")
            by_desk = {d: c for c, d in self.w.store.former_pairs("Accounts").items()}
            by_desk.update({d: c for c, d in pairs.items()})
            return by_desk.get(value[5:], value)
        return value

    def accounts(self, side: str) -> list[str]:
        """The side's accounts a contact may point to: not one kept apart after a deletion
        (never paired again), nor one whose counterpart the test deleted since the last
        finished run, but in Desk under --on-delete propagate: the run deletes it and its
        contacts sync with no account (test_account_deleted_by_the_sync; the CRM direction
        is in test_deleted_accounts.py)."""
        apart = self.w.store.unlinked("Accounts")
        race = side == "desk" and self.w.service.settings()["on_delete"] == "propagate"
        gone = set() if race else {
            p.id(side) for p in self.w.store.pairs("Accounts").values()
            if (other(side), "Accounts", p.id(other(side))) in self.deleted}
        return sorted(i for i in self.records(side, "Accounts")
                      if (side, i) not in apart and i not in gone)

    @rule(links=st.lists(st.tuples(st.sampled_from(SIDES), st.integers(0, 20),
                                   st.none() | st.integers(0, 20)), min_size=1, max_size=3))
    def link_accounts(self, links: list[tuple[str, int, int | None]]) -> None:
        for side, pick, account in links:
            self.link_account(side, pick, account)

    def link_account(self, side: str, pick: int, account: int | None) -> None:
        """A contact's account set, changed or cleared (maybe to an account made since the
        last run: not synced yet)."""
        contacts = self.records(side, "Contacts")
        accounts = self.accounts(side)
        if not contacts or (account is not None and not accounts):
            return
        record_id = sorted(contacts)[pick % len(contacts)]
        target = None if account is None else accounts[account % len(accounts)]
        ref = target if side == "crm" or target is None else f"desk:{target}"
        if self.values(side, "Contacts", contacts[record_id])[LINK[0]] == self.canon(ref):
            return  # not an edit
        self.step += 1
        self.write(side, "Contacts", record_id, {LINK[0]: target})
        self.note_edit((side, "Contacts", record_id), ref)

    @rule(side=st.sampled_from(SIDES), account=st.integers(0, 20))
    def create_linked(self, side: str, account: int) -> None:
        """A new contact of an existing account (maybe new too)."""
        accounts = self.accounts(side)
        if not accounts:
            return
        self.step += 1
        values = {name: self.fresh(name) for name, _ in FIELDS["Contacts"][1]
                  if name != "Phone"}
        values[LINK[0]] = accounts[account % len(accounts)]
        self.made.add((side, "Contacts", self.write(side, "Contacts", None, values)))

    @rule(side=st.sampled_from(SIDES), pick=st.integers(0, 20),
          staying=st.sampled_from(["own", "other", "none"]))
    def delete_account(self, side: str, pick: int, staying: str) -> None:
        """An account some contacts point to (or to its counterpart) deleted."""
        accounts = sorted(self.records(side, "Accounts"))
        pairs = self.w.store.pair_map("Accounts")
        pointed = {str(r.data.get(LINK[0] if s == "crm" else LINK[1]))
                   for s in SIDES for r in self.records(s, "Contacts").values()}
        wanted = [i for i, a in enumerate(accounts) if a in pointed or
                  (pairs.get(a) if side == "crm" else
                   next((c for c, d in pairs.items() if d == a), None)) in pointed]
        if not wanted:
            return
        self.staying = staying
        try:
            self.delete("Accounts", side, wanted[pick % len(wanted)])
        finally:
            self.staying = "both"

    @rule(pick=st.integers(0, 20), contact=st.integers(0, 20), made=st.booleans())
    def orphan_link(self, pick: int, contact: int, made: bool) -> None:
        """A synced CRM account deleted, then a Desk contact linked to (or made with) its
        counterpart: under propagate the next run deletes that one too (the race of
        test_account_deleted_by_the_sync); under unlink nothing is linked (kept apart)."""
        pairs = sorted(self.w.store.pair_map("Accounts").items())
        crm = sorted(self.records("crm", "Accounts"))
        if not pairs or pairs[pick % len(pairs)][0] not in crm:
            return
        account, desk_account = pairs[pick % len(pairs)]
        self.delete("Accounts", "crm", crm.index(account))
        accounts = self.accounts("desk")
        if desk_account not in accounts:
            return
        if made:
            self.create_linked("desk", accounts.index(desk_account))
        else:
            self.link_account("desk", contact, accounts.index(desk_account))

    def note_edit(self, ref: Ref, value: Any) -> None:
        self.edits.setdefault(ref, {})[LINK[0]] = value
        self.first_edit.setdefault(ref, self.step)

    def deleting(self, side: str, module: str, record_id: str) -> None:
        """An account deleted: its contacts let go of it, and of its counterpart on the
        other side, but where ``staying`` says they keep pointing to them. A contact
        created or linked to it since the last finished run always lets go: the run may
        delete or keep apart the account it points to (test_account_deleted_by_the_sync),
        and one kept apart is never synced. The local CRM keeps a deleted account's id on
        its contacts."""
        if module != "Accounts":
            return
        ids = {side: record_id}
        for pair in self.w.store.pairs("Accounts").values():
            if pair.id(side) == record_id:
                ids[other(side)] = pair.id(other(side))
        kept = self.w.service.settings()["on_delete"] == "unlink"  # the counterpart stays
        for where, account in ids.items():
            # Desk's trash takes a deleted account off its contacts without moving their
            # modifiedTime (deskctl/backends/local/desk.py): there, only contacts of a Desk
            # account kept apart may stay on it
            stay = (where == "crm" or (kept and where != side)) and \
                self.staying in ("both", "own" if where == side else "other")
            if self.mode == "one-way":
                # left out: a CRM contact staying on an account no longer synced cannot be
                # restored in Desk (the sync points no contact to it)
                stay = False
            for contact_id, record in self.records(where, "Contacts").items():
                if record.data.get(LINK[0] if where == "crm" else LINK[1]) != account:
                    continue
                ref = (where, "Contacts", contact_id)
                if stay and ref in self.baseline and self.baseline[ref][LINK[0]] == \
                        self.values(where, "Contacts", record)[LINK[0]]:
                    continue  # synced on this account: a forgotten pair is no edit of it
                self.write(where, "Contacts", contact_id, {LINK[0]: None})
                self.note_edit(ref, None)


class OneWayHistory(AccountLinkHistory):
    """One-way, account links included (a Desk contact's account changed is restored)."""

    mode = "one-way"

    @initialize(on_delete=st.sampled_from(["propagate", "unlink"]))
    def start(self, on_delete: str) -> None:
        self.crm: dict[Ref, dict[str, Any]] = {}  # what the test wrote to each CRM record
        self.desk: dict[Ref, dict[str, Any]] = {}  # ... and to each Desk record it made
        self.removed: set[Ref] = set()  # deleted by the test
        self._start("crm-wins", on_delete)

    def write(self, side: str, module: str, record_id: str | None,
              values: dict[str, Any]) -> str:
        made = super().write(side, module, record_id, values)
        mine = self.crm if side == "crm" else self.desk
        if record_id is None or (side, module, made) in mine:
            lowered = {k: v.lower() if k == "Email" and v else v for k, v in values.items()}
            if side == "desk" and module == "Contacts" and lowered.get(LINK[0]):
                lowered[LINK[0]] = f"desk:{lowered[LINK[0]]}"
            mine.setdefault((side, module, made), {}).update(lowered)
        return made

    def same(self, now: dict[str, Any], wrote: dict[str, Any]) -> bool:
        return {f: now[f] for f in wrote} == {f: self.canon(v) for f, v in wrote.items()}

    def check_module(self, module: str, before: dict[str, Any]) -> None:
        super().check_module(module, before)
        records = {side: self.records(side, module) for side in SIDES}
        # the sync never writes to the CRM: every record is the test's, as it left it
        assert {i for s, m, i in self.crm if m == module} >= set(records["crm"]), \
            f"{module}: a CRM record the test did not make"
        for record_id, record in records["crm"].items():
            wrote = self.crm[("crm", module, record_id)]
            now = self.values("crm", module, record)
            assert self.same(now, wrote), f"{module}: the sync wrote to the CRM"
        # the Desk records the test made (matching no CRM record: fresh keys) are Desk's
        # own: never paired, deleted or changed
        paired = {p.desk_id for p in self.w.store.pairs(module).values()}
        for ref, wrote in self.desk.items():
            if ref[1] != module or ref in self.removed:
                continue
            assert ref[2] in records["desk"], f"{module}: one-way deleted a Desk record"
            assert ref[2] not in paired, f"{module}: one-way paired a Desk record"
            now = self.values("desk", module, records["desk"][ref[2]])
            assert self.same(now, wrote), f"{module}: one-way changed Desk's own"

    def deleting(self, side: str, module: str, record_id: str) -> None:
        super().deleting(side, module, record_id)
        self.removed.add((side, module, record_id))

    def delete_account(self, side: str, pick: int, staying: str) -> None:
        """Not a rule here: contacts let go of every deleted account in one-way."""

    def check_edits(self, module: str, crm_id: str, desk_id: str, crm: dict[str, Any],
                    desk: dict[str, Any], before: dict[str, Any]) -> None:
        """Desk follows the CRM, killed runs or not (check_module: the CRM is the test's)."""
        assert desk == crm, f"{module}: Desk does not hold the CRM's values"

    def unpaired_ok(self, side: str, module: str, record_id: str) -> bool:
        return side == "desk" and ("desk", module, record_id) in self.made


def _settings(examples: int) -> settings:
    """Fewer histories than test_stateful_v2's 100, so the file stays within about 30 s
    (2 shared cores); DESKCTL_STATEFUL_EXAMPLES=N explores N random ones."""
    explore = int(os.environ.get("DESKCTL_STATEFUL_EXAMPLES", "0"))
    return settings(max_examples=explore or examples, stateful_step_count=30, deadline=None,
                    derandomize=not explore, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


TestAccountLinkHistories = AccountLinkHistory.TestCase
TestAccountLinkHistories.settings = _settings(30)
TestOneWayHistories = OneWayHistory.TestCase
TestOneWayHistories.settings = _settings(30)


def test_account_deleted_by_the_sync(tmp_path: Path) -> None:
    """Found by AccountLinkHistory: a contact linked in Desk to an account the same run
    deletes there (its CRM counterpart was deleted, --on-delete propagate) was reported
    'its account desk:<id> is not synced yet' on every run (test_deleted_accounts has the
    CRM direction and more)."""
    world = make_world(tmp_path, on_delete="propagate")
    account = world.crm_create("Accounts", Account_Name="Acme")
    world.run()
    [pair] = world.store.pairs("Accounts").values()
    world.crm.delete_records("Accounts", [account])
    contact = world.desk.create_record("contacts", {"lastName": "Ames", "email": "a@x.example",
                                                    "accountId": pair.desk_id}).id
    report = world.run(force=True)  # the only synced account: past the delete guard
    assert list(world.desk.list_records("accounts")) == []  # the deletion propagated
    assert report["errors"] == 0, world.service.errors()
    [crm] = world.crm.list_records("Contacts")  # the contact synced, with no account
    assert world.store.pairs("Contacts")[crm.id].desk_id == contact
    assert not crm.data.get("Account_Name")
    assert not world.desk.get_record("contacts", contact).data.get("accountId")
    again = world.run()  # nothing left for the next run
    assert again["errors"] == world.writes(again) == 0, world.service.errors()


def test_forgotten_account_pair_is_no_edit_of_its_contacts(tmp_path: Path) -> None:
    """Found by AccountLinkHistory: once an Account pair is forgotten (--on-delete unlink),
    a Desk contact still pointing to its Desk account reads as the former pair's CRM id
    (sync_former_pairs), not 'desk:<id>', an edit nobody made; more cases in
    test_former_account_pairs.py."""
    world = make_world(tmp_path, conflict="desk-wins", on_delete="unlink")
    account = world.crm_create("Accounts", Account_Name="Acme")
    contact = world.crm_create("Contacts", Last_Name="Ames", Email="a@x.example",
                               Account_Name=account)
    world.run()
    desk_contact = world.store.pairs("Contacts")[contact].desk_id
    world.crm.delete_records("Accounts", [account])  # the CRM contact lets go of it
    world.crm_update("Contacts", contact, Account_Name=None)
    world.desk.update_record("contacts", desk_contact, {"phone": "+1 500"})
    report = world.run()
    assert report["errors"] == report["conflicts"] == 0, world.service.errors()
    crm = world.crm.get_record("Contacts", contact).data
    assert (crm.get("Account_Name"), crm.get("Phone")) == (None, "+1 500")  # both edits
    assert not world.desk.get_record("contacts", desk_contact).data.get("accountId")
