"""One benchmark scenario in its own process (so peak RSS is its own), printing one JSON
object: python -m bench.scenario KIND local|zoho N [URL]

- sync: a bidirectional first sync of N contacts (and N/5 accounts) from the CRM, then
  the run right after it exactly as cron would make it (no run in between), then a later
  run with nothing new, then (local) a run after 1% of the contacts changed on each side.
- oneway: a one-way first sync, then K = N/8 contacts edited in Desk: the CRM reads the
  run needs for their counterparts.
- errors: N contacts of which N/10 have a duplicate email in Desk (ambiguous matches, left
  in `sync errors`), then the run right after and a run with nothing new: the lookups the
  records in error cost.

Every figure comes from the run report: HTTP requests on zoho, backend calls on local. The
CRM's records are made before the first sync's overlap (RunOptions.overlap_seconds): those
modified within it are read again by the next run, by design."""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.seed import SeedCounts, seed
from deskctl.config import load_config
from deskctl.credentials import CredentialStore
from deskctl.services.integration import IntegrationService
from deskctl.services.sync import SyncService
from deskctl.state import StateStore
from deskctl.sync.run import RunOptions


def fill(sandbox: LocalBackend, contacts: int) -> int:
    """N contacts and N/5 accounts in the CRM (not timed); returns the account count."""
    seed(sandbox, SeedCounts(0, 0, 0, 0, 0), random_seed=1)
    accounts: list[str] = []
    total_accounts = max(1, contacts // 5)
    for start in range(0, total_accounts, 100):
        accounts += [str(r.id) for r in sandbox.crm.create_records("Accounts", [
            {"Account_Name": f"Account {i}", "Website": f"https://a{i}.example"}
            for i in range(start, min(start + 100, total_accounts))])]
    for start in range(0, contacts, 100):
        sandbox.crm.create_records("Contacts", [
            {"First_Name": "Bench", "Last_Name": f"Contact {i}", "Email": f"c{i}@bench.example",
             "Account_Name": accounts[i % len(accounts)]}
            for i in range(start, min(start + 100, contacts))])
    return total_accounts


def measured(service: SyncService) -> dict[str, Any]:
    """One `sync run` as cron makes it: its time and the calls its report counts."""
    started = time.perf_counter()
    report = service.run(RunOptions(), 0)
    seconds = time.perf_counter() - started
    api = report["api_calls"]
    return {"seconds": round(seconds, 3),
            "reads": api["crm_reads"] + api["desk_reads"],
            "writes": api["crm_writes"] + api["desk_writes"],
            "crm_reads": api["crm_reads"], "desk_reads": api["desk_reads"],
            "setup": api.get("setup", 0), "errors": report["errors"]}


def backend_for(kind: str, sandbox: LocalBackend, home: Path, url: str | None) -> Any:
    if kind == "local":
        return sandbox
    from deskctl.backends.zoho import ZohoBackend
    from deskctl.backends.zoho.auth import TokenProvider
    from deskctl.backends.zoho.settings import ZohoSettings

    os.environ.update(DESKCTL_ZOHO_CLIENT_ID="bench", DESKCTL_ZOHO_CLIENT_SECRET="bench",
                      DESKCTL_ZOHO_REFRESH_TOKEN="bench")
    settings = ZohoSettings("com", str(url), str(url), str(url), concurrency=10, timeout=60,
                            deal_link_field="cf_deal_ids")
    return ZohoBackend(settings, TokenProvider(str(url), CredentialStore("default"),
                                               home / "token.json"))


def linked(backend: Any, home: Path, mode: str) -> SyncService:
    """The integration linked and the sync configured, its state in a fresh file, or with
    BENCH_STATE_URL (postgresql://...) in a fresh profile of that database."""
    url = os.environ.get("BENCH_STATE_URL")
    state = StateStore(url, f"bench{os.getpid()}") if url else StateStore(home / "state.db")
    IntegrationService(backend, state, CredentialStore("default")).connect("acme-support")
    service = SyncService(backend, state, load_config())
    service.configure(mode, None, None)
    return service


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def desk_of(sandbox: LocalBackend) -> Any:
    return sandbox.desk(sandbox.all_portals()[0].id)


def change_one_percent(sandbox: LocalBackend) -> int:
    """1% of the contacts edited in the CRM and 1% (others) in Desk; returns how many."""
    crm_ids = [r.id for r in sandbox.crm.list_records("Contacts")][::100]
    sandbox.crm.update_records("Contacts", [(i, {"Phone": "+1 555 0199"}) for i in crm_ids])
    desk = list(desk_of(sandbox).list_records("contacts"))[50::100]
    for record in desk:
        desk_of(sandbox).update_record("contacts", record.id, {"phone": "+1 555 0100"})
    return len(crm_ids) + len(desk)


def sync_scenario(kind: str, sandbox: LocalBackend, backend: Any, home: Path,
                  contacts: int, accounts: int) -> dict[str, Any]:
    service = linked(backend, home, "bidirectional")
    initial = measured(service)
    initial["peak_rss_mb"] = rss_mb()
    initial["records_per_second"] = round((contacts + accounts) / initial["seconds"], 1)
    result: dict[str, Any] = {"initial": initial, "after": measured(service)}
    result["steady"] = measured(service)
    if kind == "local":
        changed = change_one_percent(sandbox)
        result["one_percent"] = {**measured(service), "changed": changed}
    if kind == "zoho":
        desk = backend.desk(sandbox.all_portals()[0].id)
        result["concurrency"] = desk.concurrency
        result["desk_deletions"] = "desk-tombstones" in backend.capabilities
    return result


def oneway_scenario(sandbox: LocalBackend, backend: Any, home: Path,
                    contacts: int) -> dict[str, Any]:
    service = linked(backend, home, "one-way")
    initial = measured(service)
    quiet = measured(service)
    edits = max(1, contacts // 8)
    desk = desk_of(sandbox)
    for record in list(desk.list_records("contacts"))[:edits]:
        desk.update_record("contacts", record.id, {"phone": "+1 555 0111"})
    edited = measured(service)
    # nothing changed in the CRM: one empty list and one deleted feed per module; every
    # further CRM read is for the counterparts of the Desk edits
    return {"initial": initial, "quiet": quiet, "edited": edited, "desk_edits": edits,
            "counterpart_reads": edited["crm_reads"] - 2 * 2}


def errors_scenario(sandbox: LocalBackend, backend: Any, home: Path,
                    contacts: int) -> dict[str, Any]:
    desk = desk_of(sandbox)
    for i in range(0, contacts, 10):  # two Desk contacts share each of these emails
        for copy in ("a", "b"):
            desk.create_record("contacts", {"lastName": f"Dup {i}{copy}",
                                            "email": f"c{i}@bench.example"})
    service = linked(backend, home, "bidirectional")
    initial = measured(service)
    after = measured(service)
    steady = measured(service)
    return {"initial": initial, "after": after, "steady": steady, "in_error": steady["errors"]}


def main() -> None:
    scenario, kind, contacts = sys.argv[1], sys.argv[2], int(sys.argv[3])
    home = Path(tempfile.mkdtemp(prefix="deskctl-bench-"))
    os.environ["DESKCTL_HOME"] = str(home)
    sandbox = LocalBackend(Path(os.environ.get("BENCH_SANDBOX", home / "sandbox.db")))
    accounts = fill(sandbox, contacts)
    # the CRM's records predate the first sync (as in tests/zoho/test_sync_calls.py): a
    # record modified within the cursor's overlap before a read is read again next time
    time.sleep(RunOptions().overlap_seconds + 1)
    backend = backend_for(kind, sandbox, home, sys.argv[4] if len(sys.argv) > 4 else None)
    result: dict[str, Any] = {"scenario": scenario, "backend": kind, "contacts": contacts,
                              "accounts": accounts}
    if scenario == "sync":
        result.update(sync_scenario(kind, sandbox, backend, home, contacts, accounts))
    elif scenario == "oneway":
        result.update(oneway_scenario(sandbox, backend, home, contacts))
    else:
        result.update(errors_scenario(sandbox, backend, home, contacts))
    result["peak_rss_mb"] = rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
