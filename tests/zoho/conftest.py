"""A fake Zoho over the sandbox, reached through `responses`; every request our code
sends and every answer the emulator gives is checked against Zoho's OpenAPI specifications."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import responses

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.emulator import Emulator
from deskctl.backends.local.seed import SeedCounts, seed
from deskctl.backends.local.server import Faults, make_server
from deskctl.backends.zoho import ZohoBackend
from deskctl.backends.zoho.auth import TokenProvider
from deskctl.backends.zoho.settings import ZohoSettings
from deskctl.credentials import CredentialStore
from tests.zoho import oas

CRM = "https://www.zohoapis.com"
DESK = "https://desk.zoho.com"
ACCOUNTS = "https://accounts.zoho.com"


@dataclass
class FakeZoho:
    sandbox: LocalBackend
    emulator: Emulator
    mock: responses.RequestsMock
    requests: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: (method, path regex) -> list of canned replies served before the emulator answers
    #: (None in the list: let the emulator answer that one)
    faults: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    #: (method, path regex) -> callback(request) -> reply, answering instead of the emulator
    #: (simulated Zoho data too big for the sandbox)
    routes: dict[tuple[str, str], Any] = field(default_factory=dict)

    def fail_next(self, method: str, path: str, *replies: Any) -> None:
        self.faults.setdefault((method, path), []).extend(replies)

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for m, u in self.requests if m == method and re.search(pattern, u))

    def callback(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        self.requests.append((request.method, request.url))
        if "/oauth/" not in request.url:
            self.problems += oas.check(request.method, request.url, dict(request.headers),
                                       body if "json" in request.headers.get(
                                           "Content-Type", "") else None)
        path = re.sub(r"^https?://[^/]+", "", request.url).split("?")[0]
        for (method, pattern), queue in self.faults.items():
            if queue and method == request.method and re.search(pattern, path):
                fault = queue.pop(0)
                if fault is None:
                    break
                if isinstance(fault, Exception):
                    raise fault
                status, headers, payload = fault
                return status, headers, payload
        for (method, pattern), route in self.routes.items():
            if method == request.method and re.search(pattern, path):
                return route(request)
        reply = self.emulator.handle(request.method, request.url, dict(request.headers), body)
        self.problems += oas.check_response(request.method, request.url, reply.status,
                                            reply.encoded())
        return reply.status, {"Content-Type": "application/json", **reply.headers}, \
            reply.encoded()


class CheckedEmulator(Emulator):
    """The emulator behind a real socket, checking what crosses it both ways."""

    def __init__(self, sandbox: LocalBackend) -> None:
        super().__init__(sandbox)
        self.problems: list[str] = []

    def handle(self, method: str, url: str, headers: dict[str, str],
               body: bytes | None) -> Any:
        json_body = "json" in {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if "/oauth/" not in url:
            self.problems += oas.check(method, url, headers, body if json_body else None)
        reply = super().handle(method, url, headers, body)
        self.problems += oas.check_response(method, url, reply.status, reply.encoded())
        return reply


@dataclass
class Serving:
    emulator: CheckedEmulator
    urls: list[str]  # one server each
    lost: list[list[str]]  # per server, "POST <path>" of each create answer it lost


@contextmanager
def serving(sandbox: LocalBackend, *faults: Faults) -> Iterator[Serving]:
    """The sandbox served as Zoho on loopback sockets (`sandbox serve`'s server): one
    server per ``faults``, all over one checked emulator. Every request and answer that
    crossed them must keep Zoho's specifications."""
    emulator = CheckedEmulator(sandbox)
    servers = []
    try:
        for each in faults:
            server = make_server(emulator, "127.0.0.1", 0, each)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
        yield Serving(emulator, [f"http://127.0.0.1:{s.server_address[1]}" for s in servers],
                      [s.lost_answers for s in servers])
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    assert emulator.problems == [], "requests or answers that break Zoho's specification"


def zoho_env(url: str) -> dict[str, str]:
    """The environment that points the zoho backend at a served sandbox, credentials too."""
    return {"DESKCTL_BACKEND": "zoho", "DESKCTL_ZOHO_CRM_URL": url,
            "DESKCTL_ZOHO_DESK_URL": url, "DESKCTL_ZOHO_ACCOUNTS_URL": url, **CREDENTIALS}


def settings(**overrides: Any) -> ZohoSettings:
    base = dict(data_center="com", crm_url=CRM, desk_url=DESK, accounts_url=ACCOUNTS,
                concurrency=4, timeout=5, deal_link_field="cf_deal_ids", retries=4,
                backoff=0.0)
    base.update(overrides)
    return ZohoSettings(**base)  # type: ignore[arg-type]


#: what the emulator accepts (any values) and the tests give the zoho backend
CREDENTIALS = {"DESKCTL_ZOHO_CLIENT_ID": "1000.CLIENTID",
               "DESKCTL_ZOHO_CLIENT_SECRET": "client-secret-value",
               "DESKCTL_ZOHO_REFRESH_TOKEN": "1000.refresh-token-value"}


@pytest.fixture
def zoho_credentials(monkeypatch: pytest.MonkeyPatch) -> CredentialStore:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return CredentialStore("default")


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeZoho]:
    sandbox = LocalBackend(tmp_path / "emulated.db")
    seed(sandbox, SeedCounts(0, 0, 0, 0, 0), random_seed=1)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeZoho(sandbox, Emulator(sandbox), mock)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add_callback(method, re.compile(r"https://.*"), callback=fake.callback)
        yield fake
        assert fake.problems == [], "requests or answers that break Zoho's specification"


@pytest.fixture
def zoho(fake: FakeZoho, zoho_credentials: CredentialStore, tmp_path: Path) -> ZohoBackend:
    tokens = TokenProvider(ACCOUNTS, zoho_credentials, tmp_path / "token.json")
    return ZohoBackend(settings(), tokens)
