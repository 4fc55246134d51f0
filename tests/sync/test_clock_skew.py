"""Zoho's clock a few seconds behind ours (within the cursors' overlap). The sync runs as
a real process on the system clock; the served sandbox stamps its records by DESKCTL_NOW
in this process, set behind it. The check read after a sync lets the next read start after
the run's own writes: it must start by Zoho's clock then, or an edit Zoho stamps before our
clock's reading is skipped for good."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from deskctl import clock
from tests.sync.test_crash_zoho import served_world

EMAIL = "skew@x.example"


def test_an_edit_stamped_by_a_zoho_clock_behind_ours_is_not_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for world in served_world(tmp_path, contacts=None, lost_rate=0.0):
        behind = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=3)
        monkeypatch.setenv("DESKCTL_NOW", clock.iso(behind))
        [made] = world.sandbox.crm.create_records("Contacts", [
            {"Last_Name": "Skew", "Email": EMAIL}])
        first = world.sync()
        _out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        desk = world.sandbox.desk(world.sandbox.all_portals()[0].id)
        [copy] = [r for r in desk.list_records("contacts") if r.data.get("email") == EMAIL]
        # after the run by our clock, 2 s after its writes by Zoho's
        monkeypatch.setenv("DESKCTL_NOW", clock.iso(behind + timedelta(seconds=2)))
        with world.emulator.lock:
            desk.update_record("contacts", copy.id, {"phone": "+1 555 0199"})
        second = world.sync()
        _out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        [crm] = world.sandbox.crm.get_many("Contacts", [str(made.id)])
        assert crm.data.get("Phone") == "+1 555 0199"
