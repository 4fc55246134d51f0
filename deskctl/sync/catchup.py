"""The catch-up at the end of a run that wrote: may the next cursor start after the run's
own writes, so that the next run does not read them back?

Times are in steps: a side's modified times are whole multiples of its ``time_step``
(``SideApi.time_step``: Zoho stamps whole seconds; the local sandbox microseconds), "the
step of t" is t rounded down to one, and our clock is read to the microsecond. Once every
module is written (each module's last write ended at its ``written``, by our clock), each
side the run wrote to is read in two steps:

1. **The first read**, at once, from the check cursor's start (the cursor minus the
   overlap): everything the run wrote and whatever else changed since it began. Each record
   must be an echo: a record this run read as it is (same time, same values), or one whose
   mapped values are its pair's base (our own write, or an edit the pair does not care
   about). Anything else (an edit made meanwhile, a new record) keeps the cursor, and that
   side needs no second read. N is the newest *known* time it found: known times are those
   of records that existed before the catch-up began (a record as this run read it, or as
   the run's own write left it: the modified time the write answered, kept on the pair).
   Let B be the step of our clock when the first read began. A module written before B
   (our clock had left the step of its ``written``; say, the Accounts before the Contacts,
   or in practice every module on the local sandbox, whose step is 1 µs) needs no more:
   that read is its tail read (2.). Otherwise, when no more records than the run after a
   sync may read back (``SideApi.read_back``: what its reads of a module's side take in the
   requests issue 11 allows them) were modified at or after ``min(B, N's step)``, the next
   read starts there and reads them back within that budget, and this side needs neither
   the wait nor the tail read.
2. **The tail read**, for the other sides, once our clock has left the step of their
   modules' ``written`` (the wait overlaps the first reads; none at 1 µs), from N's step.
   It must hold echoes only, too; then the next read starts at ``min(the step of our clock
   when the tail read began, N's step + 1 step)`` (after a first read that was the tail
   read: ``min(B, N's step + 1 step)``).

The cursor saved is the next read's start plus the overlap (``_back`` subtracts it again),
and it never moves back.

Why an edit by anyone else, made at any instant, is read by the next run (times are the
side's unless said "our"; Zoho stamps an edit when it commits it, with a clock that does
not go back; the local sandbox stamps under its write lock and commits only once the
clock has left the stamp's microsecond, SandboxDb.transaction, so a write committed after
another is stamped later, in a later step):

- Committed before the first read began: the first read sees it (listings are complete and
  read every record modified since their start, docs/reads.md), and it is not an echo:
  the cursor stays.
- Committed after the first read began: the side's clock then already read at least N
  (N's record existed before the first read), so the edit is stamped in N's step or later,
  where the next read starts when there is no tail read (or earlier: B, when a Zoho clock
  that was set back left N ahead of ours), and where the tail read starts. The tail read
  sees it (not an echo: the cursor stays) unless it commits after the tail read began, too.
  On the local sandbox the edit commits after N's write, so it is stamped after N: in
  N's step + 1 µs or later, at or after the next read's start in every case.
- Committed after the tail read began (on Zoho; after the first read began, when that was
  the tail read): when Zoho's clock is not behind ours, it is stamped in the step of our
  clock's reading when that read began or later; when Zoho's clock runs behind ours, N is
  at most Zoho's time of the module's last write, and the wait (by our clock) let Zoho's
  clock leave that step before the read began, so the edit is stamped in N's step + 1 step
  or later. Either way it is at or after the next read's start.

The last step holds for a Zoho clock ahead of ours by any amount and behind ours by whole
seconds (tests/sync/test_clock_skew.py); a Zoho clock behind ours by a fraction of a second
may still be in the last write's second when the tail read begins, so an edit in that
fraction of a second can fall before the next read's start (README, Sync). The local
sandbox shares our clock. Only known times count for N: an edit that left the mapped values
as they were (an unmapped field) is an echo, but its time may be later than the side's
clock when a read began.

The overlap the next read subtracts from a cursor still covers writes committed late and
clock skew for every cursor saved from a read's start; the catch-up's cursor uses it up, as
the tail read re-reads the step before it. Records modified within the overlap before a
first read's start (say, imported just before a first sync) are not echoes, so they are
read again by the next run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from deskctl import clock
from deskctl.models.records import Record, known_instant
from deskctl.models.sync import Side
from deskctl.progress import Progress
from deskctl.state.sync import SyncStore
from deskctl.sync.side import SideApi

CHUNK = 500  # records judged at a time on a lazy read (one state lookup each)


def after_steps(deadline: datetime) -> datetime:
    """Our clock (to the microsecond) once it reads ``deadline`` or later: the end of the
    step of a module's last write, so a cursor at it is past every write made up to then.
    Waits 1.1 s at most, not at all while DESKCTL_NOW fixes the clock."""
    waited = 0.0
    while (now := clock.fine_now()) < deadline and waited < 1.1 and not clock.frozen():
        pause = min(0.05, (deadline - now).total_seconds() + 0.001)
        time.sleep(pause)
        waited += pause
    return clock.fine_now()


def later(one: str, two: str | None) -> str:
    """The later of two cursors (as instants): a cursor never moves back, so a run that
    finds nothing does not undo what an earlier run's catch-up established."""
    if two is None or clock.parse_time(one) >= clock.parse_time(two):
        return one
    return two


@dataclass(frozen=True)
class Check:
    """What a module's catch-up read needs once every module is written: the records this
    run read on each side it wrote to, the cursors it saved, and when (our clock, to the
    microsecond) its last write ended."""

    module: str
    seen: dict[Side, dict[str, Record]]
    cursors: dict[str, str]
    written: str


@dataclass(frozen=True)
class Look:
    """What one catch-up read found: only echoes or not, and the newest known time (of a
    record that existed before the catch-up began), None when it read no such record."""

    clean: bool
    newest: datetime | None = None
    #: how many records it read per modified time ("" for none)
    times: Counter[str] = field(default_factory=Counter)

    def since(self, start: datetime) -> int:
        """How many of its records were modified at ``start`` or later (or at no known
        time): what a read starting at ``start`` would read again."""
        return sum(n for text, n in self.times.items()
                   if (when := known_instant(text)) is None or when >= start)


Key = tuple[int, Side]  # a check by its index, and a side it wrote to


class CatchUp:
    """``sides``: a module's two sides; ``values_of``: a module's canonical values of a
    record; ``concurrent``: whether the backend takes concurrent calls (then each module
    and side is read whole in its own thread; otherwise lazily, one after the other)."""

    def __init__(self, sync: SyncStore, sides: Callable[[str], dict[Side, SideApi]],
                 values_of: Callable[[str], Any], back: Callable[[str], str | None],
                 overlap: timedelta, concurrent: bool, progress: Progress) -> None:
        self.sync = sync
        self.sides = sides
        self.values_of = values_of
        self.back = back
        self.overlap = overlap
        self.concurrent = concurrent
        self.progress = progress

    def run(self, checks: list[Check]) -> None:
        sides = {i: self.sides(check.module) for i, check in enumerate(checks)}
        values = {i: self.values_of(check.module) for i, check in enumerate(checks)}
        begun = clock.fine_now()
        first = self._read(checks, sides, values, {
            (i, side): self.back(check.cursors[side])
            for i, check in enumerate(checks) for side in check.seen})
        known = {key: look.newest for key, look in first.items()
                 if look.clean and look.newest is not None}
        steps = {(i, side): sides[i][side].time_step for i, side in known}
        starts: dict[Key, datetime] = {}  # where each side's next read may start
        tails: dict[Key, datetime] = {}  # the step of N, for each side that reads a tail
        for (i, side), newest in known.items():
            step = steps[(i, side)]
            at, began = clock.floor(newest, step), clock.floor(begun, step)
            if began > clock.floor(clock.parse_time(checks[i].written), step):
                starts[(i, side)] = min(began, at + step)  # the first read was the tail read
            elif first[(i, side)].since(min(began, at)) <= sides[i][side].read_back:
                starts[(i, side)] = min(began, at)
            else:
                tails[(i, side)] = at
        if tails:
            started = after_steps(max(
                clock.floor(clock.parse_time(checks[i].written), steps[(i, side)]) +
                steps[(i, side)] for i, side in tails))
            tail = self._read(checks, sides, values, {
                key: clock.iso(at) for key, at in tails.items()})
            starts.update({key: min(clock.floor(started, steps[key]), at + steps[key])
                           for key, at in tails.items() if tail[key].clean})
        for i, check in enumerate(checks):
            with self.sync.store.transaction():
                for side in check.seen:
                    if (i, side) in starts:
                        self.sync.set_cursor(check.module, side, later(
                            clock.iso(starts[(i, side)] + self.overlap), check.cursors[side]))

    def _read(self, checks: list[Check], sides: dict[int, dict[Side, SideApi]],
              values: dict[int, Any], since: dict[Key, str | None]) -> dict[Key, Look]:
        """Each (check, side) read from its ``since``: concurrently and whole, or lazily
        in chunks that stop at the first record that is not an echo."""
        def look(key: Key, records: Iterable[Record]) -> Look:
            i, side = key
            return self._look(checks[i].module, side, checks[i].seen[side], records,
                              values[i])

        if not self.concurrent:
            found = {}
            for key, start in since.items():
                self.progress.phase(f"Checking {checks[key[0]].module}")
                found[key] = look(key, sides[key[0]][key[1]].changes(start))
            return found
        self.progress.phase("Checking " + ", ".join(dict.fromkeys(
            checks[i].module for i, _side in since)))
        with ThreadPoolExecutor(len(since)) as pool:
            futures = {key: pool.submit(lambda key, start: list(
                sides[key[0]][key[1]].changes(start)), key, start)
                for key, start in since.items()}
            # judged here, on the state store's thread
            return {key: look(key, future.result()) for key, future in futures.items()}

    def _look(self, module: str, side: Side, seen: dict[str, Record],
              records: Iterable[Record], values_of: Any) -> Look:
        newest: datetime | None = None
        chunk: list[Record] = []
        times: Counter[str] = Counter()

        def judge() -> bool:
            nonlocal newest
            clean, known = self._echoes(module, side, seen, chunk, values_of)
            if known is not None and (newest is None or known > newest):
                newest = known
            return clean

        for record in records:
            chunk.append(record)
            times[record.modified_time or ""] += 1
            if len(chunk) >= CHUNK:
                if not judge():
                    return Look(False)
                chunk = []
        return Look(True, newest, times) if judge() else Look(False)

    def _echoes(self, module: str, side: Side, seen: dict[str, Record],
                records: list[Record], values_of: Any) -> tuple[bool, datetime | None]:
        """Whether each record is one this run read as it is (same time, same values), or
        its pair's base values (our own write, or nothing the pair does not know); and the
        newest time among them known to predate the catch-up (as read, or as our write
        answered)."""
        known: list[datetime] = []  # each time parsed once (a string the same is the same)
        todo = []
        for record in records:
            was = seen.get(record.id)
            if was is not None and was.modified_time == record.modified_time and \
                    was.data == record.data:
                if (when := known_instant(record.modified_time)) is not None:
                    known.append(when)
            else:
                todo.append(record)
        if todo:
            pairs = {p.id(side): p for p in self.sync.pairs_for(module, side,
                                                                [r.id for r in todo])}
            for record in todo:
                pair = pairs.get(record.id)
                if pair is None or pair.owes or values_of(side, record) != pair.base:
                    return False, None
                when = known_instant(record.modified_time)
                mine = pair.modified.get(side)
                if when is not None and (mine == record.modified_time or
                                         known_instant(mine) == when):
                    known.append(when)
        return True, max(known, default=None)
