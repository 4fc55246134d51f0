"""An Account pair forgotten (a deletion under --on-delete unlink or propagate, `sync ignore`)
is no edit of its contacts: a contact still pointing to either former account reads as the
former pair's CRM id, the value its base holds (state table sync_former_pairs). Each case
under every conflict policy, on the real local backend and state store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deskctl.config import load_config
from deskctl.services.matches import MatchService
from tests.sync.conftest import SyncWorld, make_world

POLICIES = ["crm-wins", "desk-wins", "newest", "manual"]
#: the first sync, the CRM's edits, Desk's a minute later (newest: Desk's win), the runs
T0, T1, T2, T3 = ("2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z", "2026-03-01T10:02:00Z",
                  "2026-03-01T10:03:00Z")


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Sets our clock (and the local backend's stamps) to a moment."""
    def move(when: str) -> None:
        monkeypatch.setenv("DESKCTL_NOW", when)
    move(T0)
    return move


def linked(tmp_path: Path, conflict: str, on_delete: str = "unlink"
           ) -> tuple[SyncWorld, str, str, str, str]:
    """A synced account and a contact of it: (world, CRM account, Desk account, CRM
    contact, Desk contact)."""
    world = make_world(tmp_path, conflict=conflict, on_delete=on_delete)
    account = world.crm_create("Accounts", Account_Name="Acme")
    contact = world.crm_create("Contacts", Last_Name="Ames", Email="a@x.example",
                               Account_Name=account)
    report = world.run()
    assert report["errors"] == 0, world.service.errors()
    desk_account = world.store.pairs("Accounts")[account].desk_id
    desk_contact = world.store.pairs("Contacts")[contact].desk_id
    assert world.desk.get_record("contacts", desk_contact).data["accountId"] == desk_account
    return world, account, desk_account, contact, desk_contact


def settled(world: SyncWorld, at: Any, **options: Any) -> dict[str, Any]:
    """A run that must leave nothing behind, then one that must find nothing to do."""
    at(T3)
    report = world.run(**options)
    assert report["errors"] == report["conflicts"] == 0, (world.service.errors(),
                                                           world.store.conflicts())
    again = world.run()
    assert world.writes(again) == 0 and again["errors"] == again["conflicts"] == 0
    return report


@pytest.mark.parametrize("conflict", POLICIES)
@pytest.mark.parametrize("deleted", ["crm", "desk"])
def test_deleted_account_leaves_a_desk_contact_pointing_to_it(
        tmp_path: Path, conflict: str, deleted: str, at: Any) -> None:
    """One side deletes the account, the other keeps its own (kept apart); the CRM
    contact lets go of the account while Desk edits the contact's phone (its account: the
    kept one, or none once Desk's trash took the deleted one off it): both edits flow,
    nothing waits for 'desk:<id>'."""
    world, account, desk_account, contact, desk_contact = linked(tmp_path, conflict)
    at(T1)
    if deleted == "crm":
        world.crm.delete_records("Accounts", [account])
    else:
        world.desk.delete_record("accounts", desk_account)
    world.crm_update("Contacts", contact, Account_Name=None)
    at(T2)
    world.desk.update_record("contacts", desk_contact, {"phone": "+1 500"})
    settled(world, at)
    kept = ("desk", desk_account) if deleted == "crm" else ("crm", account)
    assert world.store.unlinked("Accounts") == {kept}
    crm = world.crm.get_record("Contacts", contact).data
    assert (crm.get("Account_Name"), crm.get("Phone")) == (None, "+1 500")
    desk = world.desk.get_record("contacts", desk_contact).data
    assert (desk.get("accountId"), desk.get("phone")) == (None, "+1 500")


@pytest.mark.parametrize("conflict", POLICIES)
def test_both_contacts_keep_the_forgotten_accounts(tmp_path: Path, conflict: str,
                                                        at: Any) -> None:
    """Nobody lets go: each contact still points to its side's former account, which is
    the same account as far as its base knows; an edit of another field flows alone."""
    world, account, desk_account, contact, desk_contact = linked(tmp_path, conflict)
    at(T1)
    world.crm.delete_records("Accounts", [account])
    world.desk.update_record("contacts", desk_contact, {"phone": "+1 500"})
    settled(world, at)
    assert world.crm.get_record("Contacts", contact).data.get("Phone") == "+1 500"
    assert world.desk.get_record("contacts", desk_contact).data["accountId"] == desk_account
    assert world.store.pairs("Contacts")[contact].base["Account_Name"] == account


@pytest.mark.parametrize("conflict", POLICIES)
def test_propagated_deletion_is_no_edit_of_the_contacts(tmp_path: Path, conflict: str,
                                                        at: Any) -> None:
    """--on-delete propagate: the run deletes the Desk account too; the Desk contact (its
    account's id left on it) reads as the same account as before, not 'desk:<id>'."""
    world, account, _desk_account, contact, desk_contact = linked(tmp_path, conflict,
                                                                   "propagate")
    at(T1)
    world.crm.delete_records("Accounts", [account])
    world.crm_update("Contacts", contact, Account_Name=None)
    at(T2)
    world.desk.update_record("contacts", desk_contact, {"phone": "+1 500"})
    settled(world, at, force=True)  # the only synced account: past the delete guard
    assert world.store.pairs("Accounts") == {}
    crm = world.crm.get_record("Contacts", contact).data
    assert (crm.get("Account_Name"), crm.get("Phone")) == (None, "+1 500")
    assert not world.desk.get_record("contacts", desk_contact).data.get("accountId")


def matches(world: SyncWorld) -> MatchService:
    return MatchService(world.backend, world.state, load_config())


@pytest.mark.parametrize("conflict", POLICIES)
def test_ignored_account_is_no_edit_of_its_contacts(tmp_path: Path, conflict: str,
                                                        at: Any) -> None:
    """`sync ignore` of a paired Desk account: both accounts stay, the pair is forgotten;
    the contacts on either still agree, and an edit of another field flows."""
    world, account, desk_account, contact, desk_contact = linked(tmp_path, conflict)
    assert matches(world).ignore("Accounts", desk_account, "desk", False)["changed"]
    at(T1)
    world.crm_update("Contacts", contact, Phone="+1 600")
    at(T2)
    world.desk.update_record("contacts", desk_contact, {"lastName": "Ames-Smith"})
    settled(world, at)
    crm = world.crm.get_record("Contacts", contact).data
    desk = world.desk.get_record("contacts", desk_contact).data
    assert (crm["Account_Name"], crm["Last_Name"]) == (account, "Ames-Smith")
    assert (desk["accountId"], desk["phone"]) == (desk_account, "+1 600")
    # taken back, the accounts pair again by name; the contacts never moved
    assert not matches(world).ignore("Accounts", desk_account, "desk", True)["ignored"]
    settled(world, at)
    assert world.store.pair_map("Accounts") == {account: desk_account}
    assert world.crm.get_record("Contacts", contact).data["Account_Name"] == account


def test_a_kept_apart_account_linked_again_by_hand_moves_its_contacts(tmp_path: Path, at: Any
                                                                   ) -> None:
    """The kept-apart Desk account linked by hand to another CRM account: its contacts now
    point (by the new pair) to that account, carried to the CRM when a run reads them
    (an incremental run reads what changed: --full reads them all)."""
    world, account, desk_account, contact, desk_contact = linked(tmp_path, "newest")
    at(T1)
    world.crm.delete_records("Accounts", [account])
    settled(world, at)
    assert world.crm.get_record("Contacts", contact).data["Account_Name"] == account
    other = world.crm_create("Accounts", Account_Name="Acme Two")
    matches(world).link("Accounts", other, desk_account)
    settled(world, at)
    assert world.crm.get_record("Contacts", contact).data["Account_Name"] == account
    settled(world, at, full=True)
    assert world.store.pair_map("Accounts") == {other: desk_account}
    assert world.crm.get_record("Contacts", contact).data["Account_Name"] == other
    assert world.desk.get_record("contacts", desk_contact).data["accountId"] == desk_account


def test_portal_switch_forgets_the_former_pairs(tmp_path: Path, at: Any) -> None:
    world, account, desk_account, _contact, _desk_contact = linked(tmp_path, "newest")
    at(T1)
    world.crm.delete_records("Accounts", [account])
    settled(world, at)
    assert world.store.former_pairs("Accounts") == {account: desk_account}
    assert world.store.forget_links(("Accounts", "Contacts")) == 1
    assert world.store.former_pairs("Accounts") == {}


def test_no_contact_is_pointed_to_an_account_no_longer_synced(tmp_path: Path, at: Any) -> None:
    """A Desk contact newly pointed to the kept-apart account reads as the former pair's
    CRM id, which the CRM deleted: it waits with a clear error, nothing is written."""
    world, account, desk_account, _contact, _desk_contact = linked(tmp_path, "desk-wins")
    other = world.crm_create("Contacts", Last_Name="Bell", Email="b@x.example")
    at(T1)
    world.run()
    desk_other = world.store.pairs("Contacts")[other].desk_id
    world.crm.delete_records("Accounts", [account])
    at(T2)
    world.desk.update_record("contacts", desk_other, {"accountId": desk_account})
    at(T3)
    report = world.run()
    [error] = world.service.errors()
    assert report["errors"] == 1 and error["record_id"] == desk_other
    assert "no longer synced" in error["message"]
    assert not world.crm.get_record("Contacts", other).data.get("Account_Name")
