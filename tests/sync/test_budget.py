"""`sync run --max-calls N` on the local backend (N backend calls): each budgeted run stops
with exit 7, keeps what it did, and the runs converge without duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskctl.errors import ApiLimitReached
from tests.sync.conftest import make_world


def test_budgeted_runs_make_progress_and_converge_without_duplicates(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.crm.create_records("Contacts", [
        {"Last_Name": f"C{i}", "Email": f"c{i}@x.example"} for i in range(150)])
    for i in range(50):
        world.desk.create_record("contacts", {"lastName": f"D{i}", "email": f"d{i}@x.example"})
    pairs = [0]
    for _ in range(10):
        try:
            report = world.run(max_calls=60)
        except ApiLimitReached as exc:
            assert "--max-calls 60" in exc.message
            count = len(world.store.pairs("Contacts"))
            assert count > pairs[-1], "a budgeted run kept nothing"
            pairs.append(count)
            continue
        assert sum(v for k, v in report["api_calls"].items() if k in ("crm", "desk")) <= 60
        break
    else:
        pytest.fail("the budgeted runs never finished")
    assert len(pairs) >= 3, "the budget never stopped a run: the test proves nothing"
    crm = sorted(r.data["Email"] for r in world.crm.list_records("Contacts"))
    desk = sorted(r.data["email"] for r in world.desk.list_records("contacts"))
    assert crm == desk and len(crm) == len(set(crm)) == 200
    assert len(world.store.pairs("Contacts")) == 200
    assert world.writes(world.run()) == 0
