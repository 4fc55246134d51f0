"""API calls counted where they are made, split by service and into reads and writes, with
an optional budget (`sync run --max-calls N`). An HTTP backend counts at its chokepoint
(every request, retries included); for the local backend the sync counts its method calls.
Thread-safe: Desk writes run concurrently."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from deskctl.errors import ApiLimitReached


class CallMeter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, bool], int] = {}
        self._limit: int | None = None
        self._budget = 0

    def spend(self, service: str, write: bool) -> None:
        """Count one call about to be made; ApiLimitReached instead when the budget is spent,
        so the call is not made."""
        with self._lock:
            if self._limit is not None and self.total >= self._limit:
                raise ApiLimitReached(
                    f"--max-calls {self._budget}: the run's budget of API calls is spent; "
                    "everything done so far is kept and the next run goes on from there")
            key = (service, write)
            self._counts[key] = self._counts.get(key, 0) + 1

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def count(self, service: str, write: bool | None = None) -> int:
        return sum(n for (s, w), n in self._counts.items()
                   if s == service and write in (None, w))

    def figures(self) -> dict[str, int]:
        """{crm, desk (all calls), crm_reads, crm_writes, desk_reads, desk_writes}."""
        data: dict[str, int] = {}
        for service in ("crm", "desk"):
            data[service] = self.count(service)
            data[f"{service}_reads"] = self.count(service, False)
            data[f"{service}_writes"] = self.count(service, True)
        return data

    @contextmanager
    def budget(self, calls: int | None) -> Iterator[None]:
        """At most ``calls`` more calls inside the block (None: no budget)."""
        if calls is None:
            yield
            return
        with self._lock:
            self._limit, self._budget = self.total + calls, calls
        try:
            yield
        finally:
            with self._lock:
                self._limit = None


def since(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """The figures of the calls made between two ``figures()``."""
    return {key: after[key] - before.get(key, 0) for key in after}
