"""The sandbox's modified times: a fine one (epoch microseconds) the in-process facets read
and list by, whose second is the whole-second column the emulator serves as Zoho's; and the
migration that gives files made before it the fine column."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from deskctl import clock
from deskctl.backends.local import LocalBackend
from deskctl.backends.local.db import MIGRATIONS, micros
from deskctl.backends.local.emulator import Emulator
from deskctl.models.records import instant

OLD = "2026-05-01T10:00:07Z"


def test_a_sandbox_file_made_before_fine_times_keeps_its_times(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # a sandbox file at schema 3, before modified_us
        for script in MIGRATIONS[:3]:
            conn.executescript(script)
        conn.executemany("INSERT INTO records VALUES ('crm', 'Contacts', ?, ?, ?, ?, ?)", [
            ("572576700000000001", '{"Last_Name": "Old"}', "2026-05-01T09:00:00Z", OLD, 1),
            ("572576700000000002", '{"Last_Name": "Older"}', "2026-04-01T09:00:00Z",
             "2026-04-30T23:59:59Z", 2)])
        conn.execute("PRAGMA user_version = 3")
    backend = LocalBackend(path)
    rows = backend.db.conn.execute(
        "SELECT id, modified_time, modified_us FROM records ORDER BY seq").fetchall()
    assert [(r[1], r[2]) for r in rows] == [
        (OLD, micros(instant(OLD))), ("2026-04-30T23:59:59Z",
                                      micros(instant("2026-04-30T23:59:59Z")))]
    records = list(backend.crm.list_records("Contacts"))  # listed by the fine time now
    assert [(r.data["Last_Name"], r.modified_time) for r in records] == [
        ("Older", "2026-04-30T23:59:59Z"), ("Old", OLD)]
    assert [r.id for r in backend.crm.list_records("Contacts", "2026-05-01T10:00:07Z")] == \
        ["572576700000000001"]
    assert list(backend.crm.list_records("Contacts", "2026-05-01T10:00:07.000001Z")) == []
    backend.close()


def test_writes_are_stamped_to_the_microsecond_and_the_emulator_serves_their_second(
        tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "sandbox.db")
    made = [backend.crm.create_records("Contacts", [{"Last_Name": f"N{i}"}])[0]
            for i in range(20)]
    times = [instant(str(m.modified_time)) for m in made]
    assert times == sorted(times) and len(set(times)) == len(times)  # strictly later
    listed = list(backend.crm.list_records("Contacts"))
    assert [r.id for r in listed] == [m.id for m in made]
    assert [r.modified_time for r in listed] == [m.modified_time for m in made]
    for record, when in zip(listed, times, strict=True):  # the second column is the floor
        [second] = backend.db.conn.execute(
            "SELECT modified_time FROM records WHERE id = ?", (record.id,)).fetchone()
        assert second == clock.iso_second(when)
    # a listing from a fine time: the records stamped at it and after, none before
    middle = listed[10].modified_time
    assert [r.id for r in backend.crm.list_records("Contacts", middle)] == \
        [m.id for m in made[10:]]
    # the emulator's view: Zoho's whole seconds, listed by them
    served = Emulator(backend).backend
    assert [r.modified_time for r in served.crm.list_records("Contacts")] == \
        [clock.iso_second(t) for t in times]
    assert served.crm.time_step == timedelta(seconds=1)
    assert backend.crm.time_step == timedelta(microseconds=1)
    backend.close()


@pytest.mark.parametrize(("value", "text"), [
    (datetime(2026, 5, 1, 10, 0, 7, tzinfo=timezone.utc), "2026-05-01T10:00:07Z"),
    (datetime(2026, 5, 1, 10, 0, 7, 120, tzinfo=timezone.utc),
     "2026-05-01T10:00:07.000120Z")])
def test_iso_keeps_a_fraction_and_instant_reads_it_back(value: datetime, text: str) -> None:
    assert clock.iso(value) == text and instant(text) == value
    assert clock.iso_second(value) == "2026-05-01T10:00:07Z"
    assert clock.floor(value, timedelta(seconds=1)) == value.replace(microsecond=0)


def test_desk_times_under_a_fixed_clock_keep_whole_seconds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", OLD)
    backend = LocalBackend(tmp_path / "sandbox.db")
    portal = backend.add_portal("Fixed", "a@x.example", "A")
    record = backend.desk(portal.id).create_record("contacts", {"lastName": "Frozen"})
    assert record.modified_time == OLD
    [listed] = backend.desk(portal.id).list_records("contacts", OLD)
    assert listed.modified_time == OLD
    backend.close()


def test_the_write_counter_is_shared_by_connections_and_rolled_back_with_its_writes(
        tmp_path: Path) -> None:
    """The counter (ids, and the order of writes with one time) is read once and stored
    once per write transaction: two connections to one file (two processes) take turns
    without reusing a value, and a transaction that fails leaves it where it was."""
    one, two = LocalBackend(tmp_path / "sandbox.db"), LocalBackend(tmp_path / "sandbox.db")
    made = []
    for i in range(6):
        backend = one if i % 2 else two
        made += [r.id for r in backend.crm.create_records("Contacts", [
            {"Last_Name": f"A{i}"}, {"Last_Name": f"B{i}"}])]
    assert len(set(made)) == 12 and made == sorted(made)
    with pytest.raises(RuntimeError), one.db.transaction():
        lost = one.db.insert("crm", "Contacts", {"Last_Name": "Lost"})
        raise RuntimeError("rolled back")
    [after] = two.crm.create_records("Contacts", [{"Last_Name": "After"}])
    assert after.id == lost.id  # the rolled-back write took no value for good
    assert [r.id for r in one.crm.list_records("Contacts")] == [*made, after.id]
    one.close()
    two.close()
