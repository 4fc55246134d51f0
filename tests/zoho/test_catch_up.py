"""The catch-up's reads (deskctl/sync/catchup.py): an edit another client makes after the
first read (and before the tail read, when there is one) is read by the next run.

The sandbox is served as Zoho by a real `sandbox serve` process whose clock (DESKCTL_NOW)
stands still, behind ours: every record it writes during the sync has one time, and the
next read would start the second after it if the catch-up judged by its first read alone.
The sync runs here on the system clock, through the zoho backend over the socket; the only
stand-in is a Desk facet that, as the catch-up's first read of the contacts ends, makes the
edit through a second client (so the server stamps it, like any Zoho edit)."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from deskctl import clock
from deskctl.backends.local import LocalBackend
from deskctl.backends.local.seed import SeedCounts, seed
from deskctl.backends.zoho import ZohoBackend
from deskctl.config import load_config
from deskctl.credentials import CredentialStore
from deskctl.models.records import Record, instant
from deskctl.services.integration import IntegrationService
from deskctl.services.sync import SyncService
from deskctl.state import StateStore
from deskctl.sync.run import RunOptions
from tests.zoho.test_served import backend_for

EDITED = "c1@x.example"
PHONE = "+1 555 0142"
# wide enough that the catch-up's first read covers the stopped server clock
OPTIONS = RunOptions(overlap_seconds=60)


class EditingDesk:
    """A Desk facet that runs ``edit`` once its ``nth`` contacts listing has yielded
    ``after`` records (None: once it is read to the end); ``yielded`` holds that listing's
    records. Everything else is the real facet's."""

    def __init__(self, desk: Any, nth: int, edit: Callable[[], None],
                 after: int | None = None) -> None:
        self._desk = desk
        self._nth = nth
        self._edit = edit
        self._after = after
        self.listings = 0
        self.edited = False
        self.yielded: list[Record] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._desk, name)

    def list_records(self, kind: str, modified_since: str | None = None) -> Iterator[Record]:
        records = self._desk.list_records(kind, modified_since)
        if kind != "contacts":
            return records
        self.listings += 1
        return self._then_edit(records) if self.listings == self._nth else records

    def _then_edit(self, records: Iterator[Record]) -> Iterator[Record]:
        for record in records:
            self.yielded.append(record)
            yield record
            if len(self.yielded) == self._after:
                self._edit()
                self.edited = True
        if self._after is None:
            self._edit()
            self.edited = True


class EditingBackend:
    """The zoho backend whose Desk facet is an EditingDesk."""

    def __init__(self, backend: ZohoBackend, desk: EditingDesk) -> None:
        self._backend = backend
        self.editing = desk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def desk(self, portal_id: str) -> EditingDesk:
        return self.editing


def serve(home: Path, now: datetime) -> tuple[subprocess.Popen[str], str]:
    env = {"DESKCTL_HOME": str(home), "PATH": "/usr/bin:/bin", "DESKCTL_NOW": clock.iso(now),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    proc = subprocess.Popen([sys.executable, "-m", "deskctl", "sandbox", "serve", "--port",
                             "0"], env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert " at http://" in line, line
    return proc, line.split(" at ")[1].split(" ")[0]


@pytest.mark.parametrize(("contacts", "listings"), [
    (3, 2),  # a page in the last second: no wait, no tail read
    # as many as the next run reads back in its 2 Desk searches (SideApi.read_back)
    (196, 2),
    (197, 3),  # one more: the tail read, after the edit
])
def test_an_edit_after_the_catch_ups_first_read_is_read_by_the_next_run(
        tmp_path: Path, zoho_credentials: CredentialStore, contacts: int,
        listings: int) -> None:
    # Zoho's clock stands 10 s behind ours: within the overlap, before the run's start
    stopped = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=10)
    server, url = serve(tmp_path / "served", stopped)
    try:
        sandbox = LocalBackend(tmp_path / "served" / "default" / "sandbox.db")
        seed(sandbox, SeedCounts(0, 0, 0, 0, 0), random_seed=1)
        [account] = sandbox.crm.create_records("Accounts", [{"Account_Name": "Catch Up"}])
        made = sandbox.crm.create_records("Contacts", [
            {"Last_Name": f"Contact {i}", "Email": f"c{i}@x.example",
             "Account_Name": str(account.id)} for i in range(contacts)])
        backend = backend_for(url, zoho_credentials, tmp_path)
        other = backend_for(url, zoho_credentials, tmp_path / "other")  # another client
        state = StateStore(tmp_path / "state.db")
        IntegrationService(backend, state, CredentialStore("default")).connect("acme-support")
        SyncService(backend, state, load_config()).configure("bidirectional", None, None)
        portal_id = next(p.id for p in sandbox.all_portals() if p.name == "acme-support")

        def edit() -> None:
            desk = other.desk(portal_id)
            [copy] = desk.find_records("contacts", "email", [EDITED])
            desk.update_record("contacts", copy.id, {"phone": PHONE})

        # listings of the contacts in Desk: the run's read, then the catch-up's first read
        editing = EditingDesk(backend.desk(portal_id), 2, edit)
        first = SyncService(EditingBackend(backend, editing), state, load_config()).run(
            OPTIONS, 0)
        assert first["errors"] == 0
        assert first["modules"]["Contacts"]["counts"].get("create->desk") == contacts
        assert editing.edited and editing.listings == listings
        [copy] = other.desk(portal_id).find_records("contacts", "email", [EDITED])
        assert instant(copy.modified_time) == stopped  # stamped by the stopped clock

        second = SyncService(backend, state, load_config()).run(OPTIONS, 0)
        # it read the contacts from the second of their writes: back in 2 searches when
        # there is no tail read (196), or all of them from the run's own cursor (197)
        pages = math.ceil(contacts / backend.desk(portal_id).read_page)
        assert second["api_calls"]["desk_reads"] == 1 + pages + 2  # + accounts, recycle bins
        assert second["modules"]["Contacts"]["counts"].get("update->crm") == 1, second
        crm = {r.data.get("Email"): r for r in sandbox.crm.get_many(
            "Contacts", [str(r.id) for r in made])}
        assert crm[EDITED].data.get("Phone") == PHONE
        sandbox.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
