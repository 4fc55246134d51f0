"""One benchmark scenario in its own process (so peak RSS is its own):
python -m bench.scenario local|zoho N [URL]  -> one JSON object on stdout."""

from __future__ import annotations

import json
import math
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


def http_calls(backend: Any) -> int:
    """Requests the zoho backend sent (0 on the local backend)."""
    http = [getattr(backend, "desk_http", None), getattr(backend.crm, "http", None)]
    return sum(h.calls for h in http if h is not None)


def timed(service: SyncService) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    before = http_calls(service.backend)
    report = service.run(RunOptions(), 0)
    report["http_requests"] = http_calls(service.backend) - before
    return report, time.perf_counter() - started


def change_one_percent(sandbox: LocalBackend, contacts: int) -> None:
    """1% of the contacts edited in the CRM and 1% (others) in Desk."""
    crm_ids = [r.id for r in sandbox.crm.list_records("Contacts")]
    step = 100
    sandbox.crm.update_records("Contacts", [(i, {"Phone": "+1 555 0199"}) for i in crm_ids[::step]])
    desk = sandbox.desk(sandbox.all_portals()[0].id)
    for record in list(desk.list_records("contacts"))[step // 2::step]:
        desk.update_record("contacts", record.id, {"phone": "+1 555 0100"})


def calls(report: dict[str, Any]) -> dict[str, int]:
    """Backend calls (a list call may be many HTTP pages) and, on zoho, HTTP requests."""
    api = report["api_calls"]
    counts = {"reads": api["crm"] + api["desk"] - api["crm_writes"] - api["desk_writes"],
              "writes": api["crm_writes"] + api["desk_writes"]}
    if report["http_requests"]:
        counts["http_requests"] = report["http_requests"]
    return counts


def main() -> None:
    kind, contacts = sys.argv[1], int(sys.argv[2])
    home = Path(tempfile.mkdtemp(prefix="deskctl-bench-"))
    os.environ["DESKCTL_HOME"] = str(home)
    sandbox_path = Path(os.environ.get("BENCH_SANDBOX", home / "sandbox.db"))
    sandbox = LocalBackend(sandbox_path)
    accounts = fill(sandbox, contacts)
    if kind == "local":
        backend: Any = sandbox
    else:
        from deskctl.backends.zoho import ZohoBackend
        from deskctl.backends.zoho.auth import TokenProvider
        from deskctl.backends.zoho.settings import ZohoSettings

        url = sys.argv[3]
        os.environ.update(DESKCTL_ZOHO_CLIENT_ID="bench", DESKCTL_ZOHO_CLIENT_SECRET="bench",
                          DESKCTL_ZOHO_REFRESH_TOKEN="bench")
        settings = ZohoSettings("com", url, url, url, concurrency=10, timeout=60,
                                deal_link_field="cf_deal_ids")
        backend = ZohoBackend(settings, TokenProvider(url, CredentialStore("default"),
                                                      home / "token.json"))
    state = StateStore(home / "state.db")
    IntegrationService(backend, state, CredentialStore("default")).connect("acme-support")
    service = SyncService(backend, state, load_config())
    service.configure("bidirectional", None, None)
    initial, seconds = timed(service)
    initial_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result: dict[str, Any] = {
        "backend": kind, "contacts": contacts, "accounts": accounts,
        "initial": {"seconds": round(seconds, 3),
                    "records_per_second": round((contacts + accounts) / seconds, 1),
                    **calls(initial), "errors": initial["errors"],
                    "peak_rss_mb": round(initial_rss, 1)}}
    if kind == "zoho":
        minimum = (math.ceil(contacts / 200) + math.ceil(accounts / 200) + 2  # CRM pages+feeds
                   + contacts + accounts + 2)  # Desk: one create each, one list per module
        result["initial"]["minimum_calls"] = minimum
        result["initial"]["ideal_seconds"] = round(
            (math.ceil(contacts / 200) + math.ceil(accounts / 200) + 4) * 0.05
            + (contacts + accounts) * 0.05 / 10, 2)
    # The next run reads back once what the first one wrote (cursors never skip past a
    # write they did not see); then a cron run later, past the 5 s overlap: no change.
    service.run(RunOptions(), 0)
    time.sleep(6)
    rerun, seconds = timed(service)
    result["no_change"] = {"seconds": round(seconds, 3), **calls(rerun)}
    if kind == "local":
        change_one_percent(sandbox, contacts)
        changed, seconds = timed(service)
        result["one_percent"] = {"seconds": round(seconds, 3), **calls(changed),
                                 "errors": changed["errors"]}
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
