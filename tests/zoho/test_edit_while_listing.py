"""An edit another client makes to a Desk record while a sync's listing of it runs, after
the listing read its pages ahead: that listing does not yield the edit (desk_windows.py),
but Desk stamps it after the listing began, so the next run reads it from its cursor
(base.py's contract) and the edit reaches the CRM: never lost across runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.server import Faults
from deskctl.config import load_config
from deskctl.credentials import CredentialStore
from deskctl.services.integration import IntegrationService
from deskctl.services.sync import SyncService
from deskctl.state import StateStore
from deskctl.sync.run import RunOptions
from tests.zoho.test_catch_up import EditingBackend, EditingDesk
from tests.zoho.test_served import backend_for, served

CONTACTS = 400  # five searches: the four after the first are read ahead at once
PHONE = "+1 555 0177"


@pytest.mark.parametrize("to_desk", [
    0,  # the run writes only to the CRM: the Desk cursor is its read's start
    1,  # it creates a contact in Desk too: the catch-up's first read finds the edit
])
def test_an_edit_made_after_the_listing_read_ahead_reaches_the_crm_next_run(
        tmp_path: Path, zoho_credentials: CredentialStore, to_desk: int) -> None:
    for url, sandbox in served(tmp_path, Faults()):
        _edit_while_listing(url, sandbox, tmp_path, zoho_credentials, to_desk)


def _edit_while_listing(url: str, sandbox: LocalBackend, tmp_path: Path,
                        zoho_credentials: CredentialStore, to_desk: int) -> None:
    portal_id = next(p.id for p in sandbox.all_portals() if p.name == "acme-support")
    sandbox.crm.create_records("Contacts", [
        {"Last_Name": f"Crm {i}", "Email": f"c{i}@x.example"} for i in range(to_desk)])
    desk = sandbox.desk(portal_id)
    for i in range(CONTACTS):
        desk.create_record("contacts", {"lastName": f"Desk {i}",
                                        "email": f"d{i}@x.example"})
    backend = backend_for(url, zoho_credentials, tmp_path)
    other = backend_for(url, zoho_credentials, tmp_path / "other")  # another client
    state = StateStore(tmp_path / "state.db")
    IntegrationService(backend, state, CredentialStore("default")).connect("acme-support")
    SyncService(backend, state, load_config()).configure("bidirectional", None, None)

    def edit() -> None:  # the first contact the listing yielded, long past its page
        other.desk(portal_id).update_record("contacts", editing.yielded[0].id,
                                            {"phone": PHONE})

    # the first sync's listing of the Desk contacts, edited once half of it is yielded
    editing = EditingDesk(backend.desk(portal_id), 1, edit, after=CONTACTS // 2)
    first = SyncService(EditingBackend(backend, editing), state, load_config()).run(
        RunOptions(), 0)
    assert first["errors"] == 0 and editing.edited
    counts = first["modules"]["Contacts"]["counts"]
    assert counts.get("create->crm") == CONTACTS
    assert counts.get("create->desk", 0) == to_desk
    target = editing.yielded[0]
    # the path under test: the listing had read its last page before the edit
    assert [r.id for r in editing.yielded].count(target.id) == 1
    assert len(editing.yielded) == CONTACTS

    second = SyncService(backend, state, load_config()).run(RunOptions(), 0)
    assert second["modules"]["Contacts"]["counts"].get("update->crm") == 1, second
    [copy] = [r for r in sandbox.crm.list_records("Contacts")
              if r.data.get("Email") == target.data.get("email")]
    assert copy.data.get("Phone") == PHONE
