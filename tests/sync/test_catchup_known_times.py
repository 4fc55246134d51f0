"""The catch-up's tail read starts at the second of the newest time *known* to predate the
catch-up (deskctl/sync/catchup.py): a record as the run's own write left it, or as the run
read it. An echo is not enough: an edit to an unmapped field keeps the pair's base values,
so it reads as an echo, yet Zoho may stamp it after the first read began. CRM's keyset
pages order records of one second by id, so a mapped edit made in the second of the run's
last write, to a record the first read had already passed, is found by the tail read only
if that read starts at that second, not at the echo's later one.

The side is scripted (a fake listing over a dict of records); the state store is real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from deskctl import clock
from deskctl.models.records import Record, instant
from deskctl.models.sync import CRM, Pair
from deskctl.progress import Progress
from deskctl.state import StateStore
from deskctl.state.sync import SyncStore
from deskctl.sync.catchup import CatchUp, Check

X = datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)  # the second of the run's last write
OVERLAP = timedelta(seconds=5)
CURSOR = clock.iso(X - timedelta(seconds=1))  # the run's read started just before


def at(seconds: int) -> str:
    return clock.iso(X + timedelta(seconds=seconds))


class ScriptedSide:
    """A CRM module's listing as Zoho's keyset pages give it: records modified at or after
    ``since``, by (time, id); ``after_first`` runs once the first listing ends. ``page``:
    the records the next run may read back (SideApi.read_back); 1 makes the two records of
    the last second need the tail read."""

    time_step = timedelta(seconds=1)  # Zoho's whole seconds

    def __init__(self, records: dict[str, Record], after_first: Callable[[], None],
                 page: int = 1) -> None:
        self.records = records
        self.after_first = after_first
        self.read_back = page
        self.listings: list[str | None] = []

    def changes(self, since: str | None) -> Iterator[Record]:
        self.listings.append(since)
        floor = instant(since) if since else X - timedelta(days=1)
        found = sorted((r for r in self.records.values() if instant(r.modified_time) >= floor),
                       key=lambda r: (instant(r.modified_time), r.id))
        yield from found
        if len(self.listings) == 1:
            self.after_first()


def catch_up(tmp_path: Path, edited: bool, concurrent: bool, page: int, written: str,
             step: timedelta = timedelta(seconds=1)) -> tuple[ScriptedSide, str | None]:
    """The scenario, the run's last write ending at ``written`` by our clock (Zoho stamps
    it X; ``step``: the side's time step): (the side, with its listings; the cursor the
    catch-up saved)."""
    sync = SyncStore(StateStore(tmp_path / "state.db"))
    long_ago = at(-100)
    sync.save_pairs([
        Pair("Contacts", "0", "d0", {"Last_Name": "Zero"}, {}, {CRM: long_ago}),
        Pair("Contacts", "5", "d5", {"Last_Name": "Five"}, {}, {CRM: at(0)}),  # our write
        Pair("Contacts", "7", "d7", {"Last_Name": "Seven"}, {}, {CRM: long_ago})])
    records = {
        "0": Record("0", {"Last_Name": "Zero"}, modified_time=long_ago),
        "5": Record("5", {"Last_Name": "Five"}, modified_time=at(0)),
        # someone edited a field the sync does not map: the base values, a later time
        "7": Record("7", {"Last_Name": "Seven"}, modified_time=at(1))}

    def edit() -> None:  # in the last write's second, after the first read passed id 0
        if edited:
            records["0"] = Record("0", {"Last_Name": "Edited"}, modified_time=at(0))

    side = ScriptedSide(records, edit, page)
    side.time_step = step

    def values_of(_module: str) -> Any:
        return lambda _side, record: record.data

    CatchUp(sync, lambda _module: {CRM: side}, values_of,
            lambda cursor: clock.iso(clock.parse_time(cursor) - OVERLAP),
            OVERLAP, concurrent, Progress()).run([Check("Contacts", {CRM: {}}, {CRM: CURSOR},
                                                        written)])
    return side, sync.cursors("Contacts").get(CRM)


@pytest.mark.parametrize("concurrent", [False, True])
@pytest.mark.parametrize("edited", [False, True])
def test_the_tail_read_starts_at_the_newest_known_time_not_at_an_echo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited: bool,
        concurrent: bool) -> None:
    # our clock, 10 s ahead of Zoho's, in the second of the last write
    monkeypatch.setenv("DESKCTL_NOW", at(10))
    side, cursor = catch_up(tmp_path, edited, concurrent, page=1, written=at(10))
    # the first read from the cursor's overlap, then the tail from the known second
    assert side.listings == [clock.iso(X - timedelta(seconds=6)), at(0)]
    if edited:
        assert cursor is None  # kept: the next run reads from the run's own cursor
    else:
        # the next read starts the second after the run's last write (not after the echo)
        assert cursor == clock.iso(X + timedelta(seconds=1) + OVERLAP)


@pytest.mark.parametrize("concurrent", [False, True])
@pytest.mark.parametrize("edited", [False, True])
def test_records_the_next_run_reads_back_in_the_known_second_need_no_tail_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited: bool,
        concurrent: bool) -> None:
    """Two records at or after the known second, as many as the next run may read back:
    the next read starts at that second (and reads them back), so the catch-up neither
    waits nor reads again; the edit made after the first read, stamped in that second, is
    read next."""
    monkeypatch.setenv("DESKCTL_NOW", at(0))  # our clock still in the last write's second
    side, cursor = catch_up(tmp_path, edited, concurrent, page=2, written=at(0))
    assert side.listings == [clock.iso(X - timedelta(seconds=6))]
    assert cursor == clock.iso(X + OVERLAP)  # the next read starts at X, the edit's second


@pytest.mark.parametrize("concurrent", [False, True])
def test_a_module_written_before_the_first_reads_second_needs_no_tail_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, concurrent: bool) -> None:
    """The Accounts, written seconds before the Contacts end: our clock had left the second
    of their last write when the first read began, so that read is their tail read, even
    with more records than a page in the known second."""
    monkeypatch.setenv("DESKCTL_NOW", at(10))
    side, cursor = catch_up(tmp_path, False, concurrent, page=1, written=at(0))
    assert side.listings == [clock.iso(X - timedelta(seconds=6))]
    # as after a tail read: the second after the newest known time, not the echo's
    assert cursor == clock.iso(X + timedelta(seconds=1) + OVERLAP)


@pytest.mark.parametrize("concurrent", [False, True])
@pytest.mark.parametrize("step", [timedelta(microseconds=1), timedelta(seconds=1)])
def test_at_a_microsecond_step_the_first_read_is_the_tail_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: timedelta,
        concurrent: bool) -> None:
    """The local sandbox's step (1 µs): the last write ended 0.1 s after X, the first read
    began 0.3 s after it, so our clock had left the last write's step and that read is the
    tail read, however many records share the known time: no tail read, and the next read
    starts 1 µs after the newest known time. At Zoho's 1 s the same clocks are in one
    second: the tail read (no wait: DESKCTL_NOW), then the second after X, bounded by our
    clock's second."""
    monkeypatch.setenv("DESKCTL_NOW", clock.iso(X + timedelta(milliseconds=300)))
    side, cursor = catch_up(tmp_path, False, concurrent, page=1,
                            written=clock.iso(X + timedelta(milliseconds=100)), step=step)
    first = clock.iso(X - timedelta(seconds=6))
    if step < timedelta(seconds=1):
        assert side.listings == [first]
        assert cursor == clock.iso(X + step + OVERLAP) == "2026-06-01T10:00:05.000001Z"
    else:
        assert side.listings == [first, at(0)]
        assert cursor == clock.iso(X + OVERLAP)
