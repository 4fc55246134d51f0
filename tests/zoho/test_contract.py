"""The backend contract suite, run against the zoho backend over the fake Zoho."""

from __future__ import annotations

import pytest

from deskctl.backends.zoho import ZohoBackend
from tests.backends.contract import BackendContract, World
from tests.zoho.conftest import FakeZoho


class TestZohoBackend(BackendContract):
    @pytest.fixture
    def world(self, zoho: ZohoBackend, fake: FakeZoho) -> World:
        other = next(p for p in fake.sandbox.sandbox_info()["portals"]
                     if p["name"] == "globex-help")
        return World(zoho, other["admin"], other["zsc_key"])
