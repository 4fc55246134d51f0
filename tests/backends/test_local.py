from __future__ import annotations

from pathlib import Path

import pytest

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.seed import SeedCounts, seed
from tests.backends.contract import BackendContract, World


class TestLocalBackend(BackendContract):
    @pytest.fixture
    def world(self, tmp_path: Path) -> World:
        backend = LocalBackend(tmp_path / "sandbox.db")
        seed(backend, SeedCounts(0, 0, 0, 0, 0), random_seed=1)
        other = next(p for p in backend.sandbox_info()["portals"] if p["name"] == "globex-help")
        return World(backend, other["admin"], other["zsc_key"])


def emails(backend: LocalBackend) -> list[str]:
    return [r.data.get("Email", "") for r in backend.crm.list_records("Contacts")]


def test_messy_seed_is_repeatable(tmp_path: Path) -> None:
    def names(path: Path) -> list[str]:
        backend = LocalBackend(path)
        seed(backend, SeedCounts(), random_seed=5, messy=True)
        return emails(backend)

    first, second = names(tmp_path / "a.db"), names(tmp_path / "b.db")
    assert first == second and len(first) == 15
    lowered = [e.lower() for e in first]
    assert len(lowered) - len(set(lowered)) == 2, "one contact in seven shares an email"
    assert any(e != e.lower() for e in first), "seed includes mixed-case emails"


def test_default_seed_shares_one_email_in_a_hundred(tmp_path: Path) -> None:
    small = LocalBackend(tmp_path / "small.db")
    seed(small, SeedCounts(0, 15, 0, 0, 0), random_seed=5)
    assert len({e.lower() for e in emails(small)}) == 15  # the default sandbox is clean
    large = LocalBackend(tmp_path / "large.db")
    seed(large, SeedCounts(0, 1000, 0, 0, 0), random_seed=5)
    lowered = [e.lower() for e in emails(large)]
    assert len(lowered) - len(set(lowered)) == 10


def test_seed_adds_to_what_is_there(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "s.db")
    seed(backend, SeedCounts(), random_seed=1)
    seed(backend, SeedCounts(), random_seed=1)
    assert len(list(backend.crm.list_records("Contacts"))) == 30
    assert len(backend.crm.users()) == 5
    assert len(backend.all_portals()) == 3


def test_a_desk_account_deleted_leaves_its_contacts_modified_time(tmp_path: Path,
                                                                 monkeypatch) -> None:
    """Zoho does not document whether taking a trashed account off its contacts stamps them:
    the sandbox does not, so a sync must not count on reading that change."""
    backend = LocalBackend(tmp_path / "sandbox.db")
    seed(backend, SeedCounts(0, 0, 0, 0, 0), random_seed=1)
    desk = backend.desk(backend.sandbox_info()["portals"][0]["id"])
    monkeypatch.setenv("DESKCTL_NOW", "2026-12-01T10:00:00Z")
    account = desk.create_record("accounts", {"accountName": "Gone AG"})
    contact = desk.create_record("contacts", {"lastName": "Left", "accountId": account.id})
    monkeypatch.setenv("DESKCTL_NOW", "2026-12-01T10:05:00Z")
    desk.delete_record("accounts", account.id)
    after = desk.get_record("contacts", contact.id)
    assert "accountId" not in after.data
    assert after.modified_time == contact.modified_time
    assert [r.id for r in desk.list_records("contacts", "2026-12-01T10:01:00Z")] == []
