"""A sync of a few thousand records through the zoho backend makes no more API calls
than the APIs' page and batch limits require."""

from __future__ import annotations

import math
import time
from pathlib import Path

from deskctl.backends.zoho import ZohoBackend
from deskctl.config import load_config
from deskctl.credentials import CredentialStore
from deskctl.services.integration import IntegrationService
from deskctl.services.sync import SyncService
from deskctl.state import StateStore
from deskctl.sync.run import RunOptions
from tests.zoho.conftest import FakeZoho

ACCOUNTS, CONTACTS = 300, 2000


def test_initial_and_unchanged_runs_stay_at_the_minimum(zoho: ZohoBackend, fake: FakeZoho,
                                                        tmp_path: Path) -> None:
    crm = fake.sandbox.crm
    accounts = []
    for start in range(0, ACCOUNTS, 100):
        accounts += [r.id for r in crm.create_records("Accounts", [
            {"Account_Name": f"Account {i}"} for i in range(start, start + 100)])]
    for start in range(0, CONTACTS, 100):
        crm.create_records("Contacts", [
            {"Last_Name": f"Contact {i}", "Email": f"c{i}@x.example",
             "Account_Name": accounts[i % ACCOUNTS]} for i in range(start, start + 100)])
    time.sleep(RunOptions().overlap_seconds + 1)  # the data predates the first run's overlap
    state = StateStore(tmp_path / "state.db")
    IntegrationService(zoho, state, CredentialStore("default")).connect("acme-support")
    service = SyncService(zoho, state, load_config())
    service.configure("bidirectional", None, None)
    before = len(fake.requests)
    report = service.run(RunOptions(), 0)
    calls = fake.requests[before:]
    assert report["errors"] == 0

    def count(method: str, fragment: str) -> int:
        return sum(1 for m, u in calls if m == method and fragment in u)

    # CRM: COQL pages of 200 per module; Desk: one create per record, one empty search and
    # one empty recycle bin per module
    crm_pages = math.ceil(ACCOUNTS / 200) + math.ceil(CONTACTS / 200)
    assert count("POST", "/crm/v8/coql") == crm_pages
    assert count("POST", "/api/v1/accounts") == ACCOUNTS
    assert count("POST", "/api/v1/contacts") == CONTACTS
    # the empty Desk searches of the first read, then each written side's window read once
    # more, so the next cursor can start after the sync's own writes (DeskApi.read_page
    # records a search), and at most once more from the second of the newest write (the
    # tail read)
    page = zoho.desk(fake.sandbox.all_portals()[0].id).read_page
    pages = math.ceil(ACCOUNTS / page) + math.ceil(CONTACTS / page)
    assert count("GET", "/search") <= 2 + 2 * pages
    assert count("GET", "/recycleBin") == 2
    minimum = crm_pages + ACCOUNTS + CONTACTS + 2 * 3  # + deleted feeds, searches, bins
    metadata = count("GET", "/settings/")
    assert len(calls) - metadata <= math.ceil(1.1 * minimum), len(calls)

    before = len(fake.requests)
    again = service.run(RunOptions(), 0)
    rerun = fake.requests[before:]
    assert again["api_calls"]["crm_writes"] + again["api_calls"]["desk_writes"] == 0
    assert sum(1 for m, u in rerun if m != "GET" and not u.endswith("/coql")) == 0
    # the run right after the first sync reads at most 2 pages per module and side (COQL on
    # the CRM, searches on Desk), plus the deleted-records feeds: never what it wrote
    data = [u for m, u in rerun if u.endswith("/coql") or "/search" in u]
    assert len(data) <= 2 * 2 * 2, data
    for kind in ("accounts", "contacts"):
        assert sum(1 for u in data if f"/{kind}/search" in u) <= 2, data
