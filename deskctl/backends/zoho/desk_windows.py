"""Desk's records in modifiedTime windows, paged by offsets inside a window.

Each window is `modifiedTimeRange=<key>,<end>` sorted by modifiedTime (Search.json). Every
page starts on the last row of the page before, and that row must come back first: if it
does not, a record before it was edited meanwhile (it left for the end of the window) and
the rows shifted, so the window restarts at the newest instant read, skipping the ids
already yielded at it; so it does when `from` would pass Desk's cap of 4999 (desk-api.md
§4.4). Records sharing an instant (Desk's times have milliseconds, "2016-06-21T13:16:14.000Z"
in desk-api.md §10, but writes can share one) are read once, never once per page boundary.

The pages after the first are read ahead, so a window ends with its last page: a record
edited after the pages were read (by the caller or anyone) is not read again, but Desk
stamps the edit when it commits it, after the listing began, so a listing from the
listing's start reads it (base.py's contract). A window of n * (limit - 1) records or fewer
takes n searches (`DeskApi.read_page` counts on it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from deskctl.errors import BackendError
from deskctl.models.records import Record

MAX_FROM = 4999
# search windows: Search.json's range pattern only takes years 19xx and 20xx
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
END = datetime(2099, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc)
Rows = list[tuple[datetime, Record]]
#: one page of the window from an instant: (low, from) -> ((instant, record) rows, count)
Search = Callable[[datetime, int], tuple[Rows, int]]


def desk_range(at: datetime) -> str:
    """An instant as a `...TimeRange` bound: yyyy-MM-ddTHH:mm:ss.SSSZ (Search.json)."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def windowed(kind: str, key: datetime, search: Search, limit: int,
             concurrency: int) -> Iterator[Record]:
    """Every record of ``kind`` modified at or after ``key``, oldest modification first."""
    newest, done = key, set[str]()  # the newest instant yielded, the ids yielded at it
    stalled = 0
    while True:
        anchor: tuple[str, datetime] | None = None
        capped = fresh = False
        for rows in _pages_from(key, search, limit, concurrency):
            if rows is None:
                capped = True
                break
            if anchor is not None:
                if not rows or (rows[0][1].id, rows[0][0]) != anchor:
                    break  # shifted: restart at the newest instant
                rows = rows[1:]
            for when, record in rows:
                if when > newest:
                    newest, done = when, set()
                elif when == newest and record.id in done:
                    continue
                done.add(record.id)
                fresh = True
                yield record
            if rows:
                anchor = (rows[-1][1].id, rows[-1][0])
        else:
            return  # the window ended, every page in place
        if capped and newest == key:
            raise BackendError(f"more than {MAX_FROM + 1} Desk {kind} were modified at "
                               f"{desk_range(key)}; Desk's search cannot page past them")
        # a shift with nothing new, again and again at one instant: its records do not come
        # in one order (or edits never stop), and offsets cannot page them
        stalled = stalled + 1 if not fresh and newest == key else 0
        if stalled > 3:
            raise BackendError(f"Desk's search answers the {kind} modified at "
                               f"{desk_range(key)} in a changing order: they cannot be "
                               "paged; run the sync again")
        key = newest


def _pages_from(key: datetime, search: Search, limit: int,
                concurrency: int) -> Iterator[Rows | None]:
    """The pages of the window from ``key`` in order, each from the last row of the one
    before (`from` 0, limit-1, 2(limit-1)...), until one is not full; None when `from`
    would pass Desk's cap. After the first page, the pages its `count` says are left are
    read ``concurrency`` at a time."""
    step = limit - 1
    rows, count = search(key, 0)
    yield rows
    start = step
    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        while len(rows) == limit:
            if start > MAX_FROM:
                yield None
                return
            # the pages `count` rows need (at least one, to see where the window ends)
            pages = max(1, -(-(count - 1 - start) // step))
            starts = [at for at in range(start, start + pages * step, step) if at <= MAX_FROM]
            for page in pool.map(lambda at: search(key, at), starts):
                rows, count = page
                yield rows
                if len(rows) < limit:
                    return
            start = starts[-1] + step
