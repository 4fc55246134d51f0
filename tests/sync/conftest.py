"""A linked sandbox with no records, for sync tests that build their own data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.seed import SeedCounts, seed
from deskctl.config import load_config
from deskctl.credentials import CredentialStore
from deskctl.services.integration import IntegrationService
from deskctl.services.sync import SyncService
from deskctl.state import StateStore
from deskctl.state.sync import SyncStore
from deskctl.sync.run import RunOptions


@dataclass
class SyncWorld:
    backend: LocalBackend
    state: StateStore
    service: SyncService

    @property
    def crm(self) -> Any:
        return self.backend.crm

    @property
    def desk(self) -> Any:
        return self.backend.desk(self.backend.all_portals()[0].id)

    @property
    def store(self) -> SyncStore:
        return SyncStore(self.state)

    def run(self, **options: Any) -> dict[str, Any]:
        return self.service.run(RunOptions(**options), 0)

    def crm_create(self, module: str, **data: Any) -> str:
        [result] = self.crm.create_records(module, [data])
        assert result.ok, result.error
        return str(result.id)

    def crm_update(self, module: str, record_id: str, **data: Any) -> None:
        [result] = self.crm.update_records(module, [(record_id, data)])
        assert result.ok, result.error

    def writes(self, report: dict[str, Any]) -> int:
        return int(report["api_calls"]["crm_writes"] + report["api_calls"]["desk_writes"])


def make_world(home: Path, mode: str | None = "bidirectional", state_at: str | None = None,
               **policies: str) -> SyncWorld:
    """``state_at``: a state file or PostgreSQL URL (default ``home/state.db``)."""
    backend = LocalBackend(home / "sandbox.db")
    seed(backend, SeedCounts(0, 0, 0, 0, 0), random_seed=1)
    state = StateStore(state_at or home / "state.db")
    IntegrationService(backend, state, CredentialStore("default")).connect("acme-support")
    service = SyncService(backend, state, load_config())
    if mode:
        service.configure(mode, policies.get("conflict"), policies.get("on_delete"))
    return SyncWorld(backend, state, service)


@pytest.fixture
def world(tmp_path: Path) -> SyncWorld:
    return make_world(tmp_path)
