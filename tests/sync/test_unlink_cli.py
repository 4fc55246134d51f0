"""An Account pair forgotten under --on-delete unlink, end to end through the CLI, on both
backends (zoho: the sandbox served as Zoho over a loopback socket, see test_merge_cli): the
CRM deletes the account and its contact lets go of it, Desk keeps its account, its contact
still points to it and gets a phone edit. Under manual no conflict opens, under newest
(Desk's edit is the later) nothing waits for 'desk:<id>': both edits reach both sides."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sync.test_merge_cli import T0, T1, T2, T3, backend, crm_contact, desk_contact, sync

__all__ = ["backend"]  # the fixture, used by name
EMAIL = "ames@unlink.example"


@pytest.mark.parametrize("policy", ["manual", "newest"])
def test_forgotten_account_pair_through_the_cli(seeded: Any, backend: dict[str, str],
                                                policy: str) -> None:
    run = seeded
    assert run("portal", "connect", "acme-support", env=backend).exit_code == 0
    assert run("sync", "configure", "--mode", "bidirectional", "--conflict", policy,
               "--on-delete", "unlink", env=backend).exit_code == 0
    at = {"DESKCTL_NOW": T0}
    account = run("sandbox", "crm", "create", "Accounts", "Account_Name=Unlink Co", "-o",
                  "json", env=at).json()["id"]
    contact = run("sandbox", "crm", "create", "Contacts", "Last_Name=Ames", f"Email={EMAIL}",
                  f"Account_Name={account}", "-o", "json", env=at).json()["id"]
    sync(run, T0, backend)
    desk = desk_contact(run, EMAIL)
    assert desk["accountId"], "the contact's account was not synced"
    at = {"DESKCTL_NOW": T1}
    assert run("sandbox", "crm", "update", "Contacts", contact, "Account_Name=",
               env=at).exit_code == 0
    assert run("sandbox", "crm", "delete", "Accounts", account, env=at).exit_code == 0
    assert run("sandbox", "desk", "update", "contacts", desk["id"], "phone=+1 500",
               env={"DESKCTL_NOW": T2}).exit_code == 0
    sync(run, T3, backend)
    mine = {contact, desk["id"]}
    errors = run("sync", "errors", "-o", "json", env=backend).json()
    assert [e for e in errors if e["record_id"] in mine] == []
    conflicts = run("sync", "conflicts", "-o", "json", env=backend).json()
    assert [c for c in conflicts if c["crm_id"] == contact] == []
    crm = crm_contact(run, EMAIL)
    desk_now = desk_contact(run, EMAIL)
    assert (crm.get("Account_Name"), crm.get("Phone")) == (None, "+1 500")
    assert (desk_now.get("accountId"), desk_now.get("phone")) == (None, "+1 500")
    assert desk_now["id"] == desk["id"]
