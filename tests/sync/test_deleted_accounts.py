"""A contact whose account is gone: deleted by this run (--on-delete propagate) or before.

What Zoho does to such contacts (docs/deletions.md): Desk takes a trashed account off its
contacts (the local Desk does, without moving their modifiedTime); the CRM documents
nothing, and the local CRM keeps the deleted account's id on them. Either way such a
contact syncs with no account, never with an error that comes back on every run (a paired
CRM contact still naming the account is no edit). test_account_deleted_by_the_sync
(test_stateful_v2_variants) is the Desk direction of the first case.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from deskctl import clock
from tests.sync.conftest import SyncWorld, make_world
from tests.sync.test_processes import env_for


def settled(world: SyncWorld) -> None:
    again = world.run()
    assert again["errors"] == 0, world.service.errors()
    assert world.writes(again) == 0, again["modules"]


def test_a_crm_contact_of_an_account_the_run_deletes(tmp_path: Path) -> None:
    world = make_world(tmp_path, on_delete="propagate")
    account = world.crm_create("Accounts", Account_Name="Acme")
    world.run()
    [pair] = world.store.pairs("Accounts").values()
    world.desk.delete_record("accounts", pair.desk_id)
    contact = world.crm_create("Contacts", Last_Name="Ames", Email="a@x.example",
                               Account_Name=account)
    report = world.run(force=True)  # the only synced account: past the delete guard
    assert list(world.crm.list_records("Accounts")) == []  # the deletion propagated
    assert report["errors"] == 0, world.service.errors()
    [desk] = world.desk.list_records("contacts")  # the contact synced, with no account
    assert world.store.pairs("Contacts")[contact].desk_id == desk.id
    assert not desk.data.get("accountId")
    settled(world)


class Clock:
    """Pinned time, moved on by more than the read overlap between steps, so a run reads
    exactly what changed since the one before."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
        self.tick()

    def tick(self) -> None:
        self.now += timedelta(minutes=10)
        self.monkeypatch.setenv("DESKCTL_NOW", clock.iso(self.now))


def linked_pair(world: SyncWorld, time: Clock) -> tuple[str, str, str]:
    """A synced Account pair and a Contact pair linked to it: (CRM account, CRM contact,
    Desk contact)."""
    account = world.crm_create("Accounts", Account_Name="Acme")
    contact = world.crm_create("Contacts", Last_Name="Ames", Email="a@x.example",
                               Account_Name=account)
    world.run()
    time.tick()
    return account, contact, world.store.pairs("Contacts")[contact].desk_id


def test_a_desk_contact_read_in_the_run_that_deletes_its_account(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A synced Desk contact edited while its account's CRM counterpart is deleted: the
    run reads it naming the account it then deletes (the trash takes it off the contact
    only afterwards): no account, on both sides, in that run."""
    time = Clock(monkeypatch)
    world = make_world(tmp_path, on_delete="propagate")
    account, contact, desk_contact = linked_pair(world, time)
    world.crm.delete_records("Accounts", [account])
    world.desk.update_record("contacts", desk_contact, {"phone": "+1 500"})
    report = world.run(force=True)
    assert report["errors"] == report["conflicts"] == 0, world.service.errors()
    crm = world.crm.get_record("Contacts", contact).data
    assert crm.get("Phone") == "+1 500"
    assert not world.desk.get_record("contacts", desk_contact).data.get("accountId")
    # the CRM contact may keep the deleted id (read as none, as the pair's base says)
    assert crm.get("Account_Name") in (None, account)
    assert world.store.pairs("Contacts")[contact].base["Account_Name"] is None
    time.tick()
    settled(world)


def test_a_crm_contact_read_in_the_run_that_deletes_its_account(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other way: the CRM contact, still naming the deleted account (the local CRM
    keeps its id, as Zoho may: docs/deletions.md), is read in the run that deletes it:
    no error, its phone flows; the Desk contact lost the account to the trash, and that
    flows too once a run reads it (here at once or after the next edit)."""
    time = Clock(monkeypatch)
    world = make_world(tmp_path, on_delete="propagate")
    account, contact, desk_contact = linked_pair(world, time)
    [pair] = world.store.pairs("Accounts").values()
    world.desk.delete_record("accounts", pair.desk_id)
    world.crm_update("Contacts", contact, Phone="+1 500")
    report = world.run(force=True)
    assert report["errors"] == report["conflicts"] == 0, world.service.errors()
    assert world.crm.get_record("Contacts", contact).data.get("Account_Name") in (account,
                                                                                  None)
    desk = world.desk.get_record("contacts", desk_contact).data
    assert (desk.get("phone"), desk.get("accountId")) == ("+1 500", None)
    time.tick()
    world.desk.update_record("contacts", desk_contact, {"firstName": "Ann"})
    report = world.run()  # the Desk contact read again
    assert report["errors"] == report["conflicts"] == 0, world.service.errors()
    crm = world.crm.get_record("Contacts", contact).data
    assert (crm["First_Name"], crm.get("Account_Name")) == ("Ann", None)
    assert world.writes(report) == 1  # one CRM update
    time.tick()
    settled(world)


def test_an_account_not_synced_yet_is_still_reported(world: SyncWorld) -> None:
    """An account that exists but has no pair (here: left out of the sync by hand) is not
    taken for gone: its contact waits, reported, and is not synced without it."""
    account = world.desk.create_record("accounts", {"accountName": "Acme"}).id
    world.store.ignore("Accounts", "desk", account, "test", "")
    world.desk.create_record("contacts", {"lastName": "Ames", "email": "a@x.example",
                                          "accountId": account})
    for _run in range(2):
        report = world.run()
        assert report["errors"] == 1
        [error] = world.service.errors()
        assert f"its account desk:{account} is not synced yet" in str(error)
        assert list(world.crm.list_records("Contacts")) == []


def test_a_clearing_owed_to_a_crm_contact_naming_a_deleted_account_survives_a_kill(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CRM account deleted, the Desk contact's account cleared: the run records the
    contact's pair owing the CRM the clearing, and is killed before writing it. The CRM
    contact, still naming the deleted account, is read again (an edit): it reads as what
    it held when the write was decided, so the write is still owed and made, not as the
    pair's new base, which took it for done (found by AccountLinkHistory)."""
    time = Clock(monkeypatch)
    world = make_world(tmp_path, on_delete="propagate")
    account, contact, desk_contact = linked_pair(world, time)
    world.crm.delete_records("Accounts", [account])
    world.desk.update_record("contacts", desk_contact, {"accountId": None})
    world.backend.close()
    world.state.close()
    env = {**env_for(tmp_path), "DESKCTL_NOW": clock.iso(time.now),
           "DESKCTL_TEST_EXIT_AFTER": "state:2"}  # the Contacts pairs recorded, no write
    proc = subprocess.run([sys.executable, "-m", "deskctl", "sync", "run", "--force"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 99, proc.stderr
    world = make_world(tmp_path, mode=None)
    assert "crm" in world.store.pairs("Contacts")[contact].held  # owed, not written
    time.tick()
    world.crm_update("Contacts", contact, Phone="+1 500")
    report = world.run(force=True)
    assert report["errors"] == report["conflicts"] == 0, world.service.errors()
    assert world.crm.get_record("Contacts", contact).data.get("Account_Name") is None
    desk = world.desk.get_record("contacts", desk_contact).data
    assert (desk.get("phone"), desk.get("accountId")) == ("+1 500", None)
    time.tick()
    settled(world)
