"""The run right after a first sync, and a run with nothing new, on the zoho backend
against the emulator over real sockets: at most 2 data reads per module and side plus the
deleted-records feeds (issue 11), though the first sync wrote hundreds of Desk records per
whole-second instant."""

from __future__ import annotations

import time
from pathlib import Path

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.server import Faults
from deskctl.config import load_config
from deskctl.credentials import CredentialStore
from deskctl.services.integration import IntegrationService
from deskctl.services.sync import SyncService
from deskctl.state import StateStore
from deskctl.sync.run import RunOptions
from tests.zoho.test_served import backend_for, served

ACCOUNTS, CONTACTS = 60, 540
MODULES, SIDES = 2, 2
# 2 data reads per module and side and the CRM's and Desk's deleted feeds per module, as
# `make bench` counts them (the Desk field metadata read per module counts among them)
LIMIT = 2 * MODULES * SIDES + 2 * MODULES


def fill(sandbox: LocalBackend) -> None:
    accounts: list[str] = []
    for start in range(0, ACCOUNTS, 100):
        accounts += [str(r.id) for r in sandbox.crm.create_records("Accounts", [
            {"Account_Name": f"Account {i}"} for i in range(start, min(start + 100, ACCOUNTS))])]
    for start in range(0, CONTACTS, 100):
        sandbox.crm.create_records("Contacts", [
            {"Last_Name": f"Contact {i}", "Email": f"c{i}@x.example",
             "Account_Name": accounts[i % ACCOUNTS]}
            for i in range(start, min(start + 100, CONTACTS))])


def test_the_runs_after_a_first_sync_read_a_handful_of_pages(tmp_path: Path,
                                                             zoho_credentials) -> None:
    for url, sandbox in served(tmp_path, Faults()):
        fill(sandbox)
        time.sleep(RunOptions().overlap_seconds + 1)  # the data predates the first run's overlap
        backend = backend_for(url, zoho_credentials, tmp_path)
        state = StateStore(tmp_path / "state.db")
        IntegrationService(backend, state, CredentialStore("default")).connect("acme-support")
        service = SyncService(backend, state, load_config())
        service.configure("bidirectional", None, None)
        first = service.run(RunOptions(), 0)
        assert first["errors"] == 0
        created = {m: r["counts"].get("create->desk", 0) for m, r in first["modules"].items()}
        assert created == {"Accounts": ACCOUNTS, "Contacts": CONTACTS}
        portal = next(p for p in sandbox.all_portals() if p.name == "acme-support")
        # many records per instant: Desk's search pages them by offsets inside a window
        assert len(list(sandbox.desk(portal.id).list_records("contacts"))) == CONTACTS
        for label in ("the run right after the first sync", "a run with nothing new"):
            report = service.run(RunOptions(), 0)
            api = report["api_calls"]
            assert api["crm_writes"] + api["desk_writes"] == 0, (label, api)
            assert api["crm_reads"] + api["desk_reads"] <= LIMIT, (label, api)
            assert report["errors"] == 0 and not any(
                m["counts"] for m in report["modules"].values()), (label, report)
