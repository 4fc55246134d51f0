"""Zoho's concurrency limits count the calls in flight per portal (Desk) and per org and app
(CRM), whichever pool or client sends them: every ZohoHttp of one portal in the process
shares one cap, held only for the socket round trip (never across a retry's wait or a token
refresh). Counted at the server, behind real loopback sockets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.seed import SeedCounts, seed
from deskctl.backends.local.server import Faults, make_server
from deskctl.backends.zoho import ZohoBackend
from deskctl.backends.zoho.auth import TokenProvider
from deskctl.backends.zoho.settings import CRM_CONCURRENCY
from deskctl.credentials import CredentialStore
from tests.zoho.conftest import ACCOUNTS, CheckedEmulator, FakeZoho, settings

JSON = {"Content-Type": "application/json"}
HOLD = 0.1  # each answer takes this long at the server, so calls overlap (on a loaded
# machine too: at 0.02 s the threads of a round did not always reach the CRM cap)


class CountingEmulator(CheckedEmulator):
    """The emulator counting the requests it is answering at once, per service and Desk
    portal (orgId), with the highest count seen."""

    def __init__(self, sandbox: LocalBackend) -> None:
        super().__init__(sandbox)
        self.counting = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    def handle(self, method: str, url: str, headers: dict[str, str],
               body: bytes | None) -> Any:
        if "/oauth/" in url:
            return super().handle(method, url, headers, body)
        org = {k.lower(): v for k, v in headers.items()}.get("orgid", "")
        key = f"desk:{org}" if "/api/v1/" in url else "crm"
        with self.counting:
            self.now[key] = self.now.get(key, 0) + 1
            self.peak[key] = max(self.peak.get(key, 0), self.now[key])
        try:
            time.sleep(HOLD)
            return super().handle(method, url, headers, body)
        finally:
            with self.counting:
                self.now[key] -= 1


@dataclass
class Served:
    url: str
    sandbox: LocalBackend
    emulator: CountingEmulator
    portal: str

    def backend(self, credentials: CredentialStore, tmp_path: Path,
                concurrency: int) -> ZohoBackend:
        """A backend of its own (another client, as another service of the command would
        make), sharing the token cache."""
        config = settings(crm_url=self.url, desk_url=self.url, accounts_url=self.url,
                          concurrency=concurrency)
        return ZohoBackend(config, TokenProvider(self.url, credentials,
                                                 tmp_path / "token.json"))


@contextmanager
def served(tmp_path: Path, counts: SeedCounts) -> Iterator[Served]:
    sandbox = LocalBackend(tmp_path / "served.db")
    seed(sandbox, counts, random_seed=3)
    emulator = CountingEmulator(sandbox)
    server = make_server(emulator, "127.0.0.1", 0, Faults())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", sandbox, emulator,
                     sandbox.all_portals()[0].id)
    finally:
        server.shutdown()
        server.server_close()
    assert emulator.problems == [], "requests or answers that break Zoho's specification"


def test_pools_of_one_portal_share_its_cap(tmp_path: Path, zoho_credentials) -> None:
    """Two Desk listings reading ahead, creates on a write pool of another client, and
    by-id reads of a third: never more than `concurrency` in flight at the portal."""
    cap = 4
    with served(tmp_path, SeedCounts(accounts=250, contacts=300, leads=0, deals=0,
                                     tickets=0)) as zoho:
        first = zoho.backend(zoho_credentials, tmp_path, cap)
        second = zoho.backend(zoho_credentials, tmp_path, cap)
        desk, writer = first.desk(zoho.portal), second.desk(zoho.portal)
        ids = [r.id for r in desk.list_records("accounts")][:40]
        there = {kind: len(list(zoho.sandbox.desk(zoho.portal).list_records(kind)))
                 for kind in ("contacts", "accounts")}
        assert there["contacts"] > 99 and there["accounts"] > 99  # read ahead: 2+ pages
        zoho.emulator.peak.clear()

        def creates() -> int:
            with ThreadPoolExecutor(cap) as pool:
                return len(list(pool.map(lambda i: writer.create_record(
                    "contacts", {"lastName": f"In flight {i}"}), range(3 * cap))))

        with ThreadPoolExecutor(4) as streams:
            read = [streams.submit(lambda kind: len(list(desk.list_records(kind))), kind)
                    for kind in ("contacts", "accounts")]
            written = streams.submit(creates)
            by_id = streams.submit(lambda: len(second.desk(zoho.portal).get_many(
                "accounts", ids)))
            counts = [f.result() for f in read]
        assert there["contacts"] <= counts[0] <= there["contacts"] + 3 * cap
        assert counts[1] == there["accounts"]
        assert written.result() == 3 * cap and by_id.result() == len(ids)
        # 3+ pools of `cap` threads each: without a shared cap the portal sees far more
        assert zoho.emulator.peak[f"desk:{zoho.portal}"] == cap


def test_a_single_pool_still_reaches_the_cap(tmp_path: Path, zoho_credentials) -> None:
    cap = 5
    with served(tmp_path, SeedCounts(accounts=0, contacts=30, leads=0, deals=0,
                                     tickets=0)) as zoho:
        desk = zoho.backend(zoho_credentials, tmp_path, cap).desk(zoho.portal)
        ids = [r.id for r in desk.list_records("contacts")]
        zoho.emulator.peak.clear()
        with ThreadPoolExecutor(cap) as pool:
            assert len(list(pool.map(lambda i: desk.get_record("contacts", i), ids))) \
                == len(ids) > 3 * cap
        assert zoho.emulator.peak[f"desk:{zoho.portal}"] == cap


def test_portals_and_services_have_caps_of_their_own(tmp_path: Path,
                                                     zoho_credentials) -> None:
    """Another portal's calls, and the CRM's, take none of a portal's slots."""
    cap = 2
    with served(tmp_path, SeedCounts(accounts=0, contacts=0, leads=0, deals=0,
                                     tickets=0)) as zoho:
        other = next(p.id for p in zoho.sandbox.all_portals() if p.id != zoho.portal)
        backend = zoho.backend(zoho_credentials, tmp_path, cap)
        calls = [lambda: backend.desk(zoho.portal).departments(),
                 lambda: backend.desk(other).departments(),
                 lambda: backend.crm.users()] * (4 * cap)
        with ThreadPoolExecutor(len(calls)) as pool:
            list(pool.map(lambda call: call(), calls))
        peak = zoho.emulator.peak
        assert peak[f"desk:{zoho.portal}"] == cap and peak[f"desk:{other}"] == cap
        assert peak["crm"] == CRM_CONCURRENCY  # 8 CRM calls at once: its own cap


def backend_of_one(fake: FakeZoho, credentials: CredentialStore,
                   tmp_path: Path) -> tuple[ZohoBackend, str]:
    fake.sandbox.desk(fake.sandbox.all_portals()[0].id).create_record(
        "contacts", {"lastName": "Only"})
    zoho = ZohoBackend(settings(concurrency=1, backoff=0.0),
                       TokenProvider(ACCOUNTS, credentials, tmp_path / "token.json"))
    return zoho, fake.sandbox.all_portals()[0].id


def in_thread(call: Any) -> threading.Thread:
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def test_a_refresh_after_401_holds_no_slot(fake: FakeZoho, zoho_credentials,
                                           tmp_path: Path) -> None:
    """Cap 1: the 401's answer frees the slot before the token is refreshed and the call
    sent again (holding it across would wait for itself)."""
    zoho, portal = backend_of_one(fake, zoho_credentials, tmp_path)
    desk = zoho.desk(portal)
    desk.departments()
    fake.fail_next("GET", "/api/v1/departments$", (401, JSON, json.dumps(
        {"errorCode": "INVALID_OAUTH", "message": "The OAuth Token is invalid"}).encode()))
    done: list[Any] = []
    thread = in_thread(lambda: done.append(desk.departments()))
    thread.join(10)
    assert done and fake.count("POST", "/oauth/v2/token") == 2


def test_a_retry_s_wait_holds_no_slot(fake: FakeZoho, zoho_credentials,
                                      tmp_path: Path) -> None:
    """Cap 1: while a call waits out a 429's Retry-After, another call of the portal goes
    through."""
    zoho, portal = backend_of_one(fake, zoho_credentials, tmp_path)
    desk = zoho.desk(portal)
    desk.departments()
    fake.fail_next("GET", "/api/v1/departments$", (429, {**JSON, "Retry-After": "2"},
                   json.dumps({"errorCode": "TOO_MANY_REQUESTS", "message": "The maximum "
                               "number of Concurrent API Calls that can be made has been "
                               "exceeded."}).encode()))
    finished: dict[str, float] = {}
    waiting = in_thread(lambda: (desk.departments(),
                                 finished.setdefault("retried", time.monotonic())))
    while fake.count("GET", "/api/v1/departments") < 2:  # the 429 answered
        time.sleep(0.01)
    other = in_thread(lambda: (desk.agents(), finished.setdefault("other", time.monotonic())))
    other.join(10)
    waiting.join(10)
    assert finished["other"] < finished["retried"]
