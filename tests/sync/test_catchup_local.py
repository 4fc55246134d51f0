"""The catch-up on the local backend, whose sandbox stamps microseconds (time_step 1 µs):
no wait for the clock's next second and no tail read after a first sync, and still every
edit made by another process right after the run (in the second of its last write) is
read by the next run. Real sandbox, real state store, the edit from a real process; the
system clock (DESKCTL_NOW would give every write one time)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from deskctl import clock
from deskctl.models.records import instant
from tests.sync.conftest import make_world

PHONE = "+1 555 0199"
# another process with the sandbox open: edits the Desk contact whose id it reads on stdin
EDITOR = """
import sys
from pathlib import Path
from deskctl.backends.local import LocalBackend
backend = LocalBackend(Path(sys.argv[1]))
desk = backend.desk(backend.all_portals()[0].id)
record_id = sys.stdin.readline().strip()
print(desk.update_record("contacts", record_id, {"phone": sys.argv[2]}).modified_time,
      flush=True)
"""


def next_second() -> None:
    """Sleep until just after the system clock's next whole second."""
    now = datetime.now(timezone.utc)
    time.sleep(1.02 - now.microsecond / 1e6)


def test_an_edit_by_another_process_in_the_second_of_the_runs_writes_is_read_next(
        tmp_path: Path) -> None:
    for attempt in range(3):  # the edit must land in the run's last second (load permitting)
        home = tmp_path / str(attempt)
        world = make_world(home)
        made = [world.crm_create("Contacts", Last_Name=f"Fine {i}", Email=f"f{i}@x.example")
                for i in range(3)]
        editor = subprocess.Popen([sys.executable, "-c", EDITOR, str(home / "sandbox.db"),
                                   PHONE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        next_second()
        first = world.run()
        assert first["modules"]["Contacts"]["counts"].get("create->desk") == 3
        copies = list(world.desk.list_records("contacts"))
        last = max(instant(r.modified_time) for r in copies)  # the run's last write
        target = next(r for r in copies if r.data.get("email") == "f0@x.example")
        edited, _err = editor.communicate(f"{target.id}\n", timeout=60)
        assert editor.returncode == 0
        when = instant(edited.strip())
        assert when > last  # stamped after the run's writes, to the microsecond
        if when.replace(microsecond=0) != last.replace(microsecond=0):
            continue  # a later second: what this test is about did not happen
        assert clock.parse_time(world.store.cursors("Contacts")["desk"]) > last
        second = world.run()
        assert second["modules"]["Contacts"]["counts"].get("update->crm") == 1, second
        [crm] = world.crm.get_many("Contacts", [made[0]])
        assert crm.data.get("Phone") == PHONE
        return
    raise AssertionError("the edit never landed in the second of the run's last write")


def test_a_local_first_sync_reads_no_tail_and_the_run_after_reads_each_feed_once(
        tmp_path: Path) -> None:
    """250 Desk contacts written in well under a second, more than the next run may read
    back (SideApi.read_back, 196 on Desk): on whole seconds the catch-up would wait for the
    next second and read a tail; at 1 µs the first read is the tail read."""
    world = make_world(tmp_path)
    for start in range(0, 250, 50):
        results = world.crm.create_records("Contacts", [
            {"Last_Name": f"Many {i}", "Email": f"m{i}@x.example"}
            for i in range(start, start + 50)])
        assert all(r.ok for r in results)
    first = world.run()
    assert first["modules"]["Contacts"]["counts"].get("create->desk") == 250
    api = first["api_calls"]
    # per module, each side's listing and deleted feed; and the Contacts' one catch-up read
    # of Desk (the side written): no tail read
    assert (api["crm_reads"], api["desk_reads"]) == (4, 5), api
    for label in ("the run right after the first sync", "a run with nothing new"):
        report = world.run()
        assert world.writes(report) == 0, (label, report)
        api = report["api_calls"]
        assert api["crm_reads"] + api["desk_reads"] == 8, (label, api)
