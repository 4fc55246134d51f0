"""One side of the sync (the CRM or Desk) as the engine sees it: what changed since a
cursor, records by ids, records by field values, and batched writes with one result each.
This is the only place where the two sides differ; the engine has no CRM/Desk branches."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Literal, cast

from deskctl.errors import ApiLimitReached, DeskctlError, NotFound, ValidationError
from deskctl.models.records import Record, Tombstone, WriteResult
from deskctl.models.sync import CRM, DESK, Side

WriteKind = Literal["create", "update", "delete"]
#: data reads of a module's side the run right after a sync may make (issue 11: "at most 2
#: data reads per module and side plus the deleted-records feeds")
READS_AFTER = 2
#: the error of a write not attempted because the API limit was reached: nothing to record
LIMITED = "the API limit was reached before this write"


class SideApi:
    """``api`` is the backend's CRM facet (``name`` a module) or a Desk facet (``name``
    a Desk collection)."""

    def __init__(self, side: Side, api: Any, name: str,
                 fields: list[str] | None = None) -> None:
        self.side = side
        self.api = api
        self.name = name
        self.fields = fields  # the CRM fields to read (Zoho answers at most 50 per read)
        self.limit: ApiLimitReached | None = None  # set once Zoho says the credits are spent
        self._pool: ThreadPoolExecutor | None = None  # the write stream's calls (send)

    @property
    def read_back(self) -> int:
        """Records a read of ``changes`` takes in READS_AFTER requests: the most the next
        run may read back of what this one wrote."""
        return READS_AFTER * int(self.api.read_page)

    @property
    def time_step(self) -> timedelta:
        """The resolution of the side's modified times (Zoho: 1 s; the local sandbox's
        in-process facets: 1 µs): the catch-up's unit (deskctl/sync/catchup.py)."""
        return cast(timedelta, self.api.time_step)

    @property
    def clock_skew(self) -> timedelta:
        """How far the side's clock may be from ours (0: the local sandbox in process)."""
        return cast(timedelta, self.api.clock_skew)

    @property
    def batch(self) -> int:
        """Records per write batch: what one CRM call takes, or a round of Desk calls."""
        return int(self.api.write_batch)

    def changes(self, since: str | None) -> Iterator[Record]:
        if self.fields is not None:
            return self.api.list_records(self.name, since, self.fields)
        return self.api.list_records(self.name, since)

    def deleted(self, since: str | None) -> list[Tombstone]:
        return self.api.deleted_records(self.name, since)

    def get_many(self, ids: list[str]) -> list[Record]:
        return self.api.get_many(self.name, ids) if ids else []

    def find(self, field: str, values: list[str]) -> list[Record]:
        if not values:
            return []
        return self.api.find_records(self.name, field, values)

    @property
    def ahead(self) -> int:
        """Write batches that may be sent before the one before them is recorded: one where
        Desk's calls run side by side (its slots then stay busy while a batch is
        recorded), none where a batch is one call (the CRM) or the calls are serial."""
        return 0 if self.side == CRM or self._workers == 1 else 1

    @property
    def _workers(self) -> int:
        return max(1, int(getattr(self.api, "concurrency", 1)))

    def send(self, kind: WriteKind, items: list[tuple[str | None, dict[str, Any]]]
             ) -> Sending:
        """(record id or None for a create, payload) each; one result per item, in order,
        from ``Sending.results``. With ``ahead``, the calls run on a pool kept for the
        side's whole stream, so a batch's calls start as the slots of the one before free
        up; otherwise they are made before this returns. A call that fails as a whole fails
        each of its records (``lost``: it may have been carried out, so a create's intent
        stays). Once the API limit is met, the remaining writes answer LIMITED and
        ``limit`` holds the error for the caller to raise."""
        if self.ahead:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers)
            return Sending([self._pool.submit(self._one, kind, item) for item in items])
        if self.side != CRM:  # serial calls: a backend that can commits them together
            with self.api.write_session():
                return Sending([self._one(kind, item) for item in items])
        try:
            if kind == "create":
                return Sending(self.api.create_records(self.name, [d for _i, d in items]))
            if kind == "update":
                return Sending(self.api.update_records(
                    self.name, [(str(i), data) for i, data in items]))
            return Sending(self.api.delete_records(self.name, [str(i) for i, _d in items]))
        except ApiLimitReached as exc:
            self.limit = exc
            return Sending([WriteResult(False, error=LIMITED)] * len(items))
        except DeskctlError as exc:
            return Sending([WriteResult(False, error=exc.message, lost=True)] * len(items))

    def close(self) -> None:
        """Ends the calls pool: calls not started are dropped (an error ended the stream),
        those under way are waited for."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _one(self, kind: WriteKind, item: tuple[str | None, dict[str, Any]]) -> WriteResult:
        """One Desk write (one call); any thread."""
        record_id, data = item
        if self.limit is not None:  # no more calls once the day's credits are spent
            return WriteResult(False, id=record_id, error=LIMITED)
        try:
            if kind == "create":
                record = self.api.create_record(self.name, data)
            elif kind == "update":
                record = self.api.update_record(self.name, str(record_id), data)
            else:
                self.api.delete_record(self.name, str(record_id))
                return WriteResult(True, id=record_id)
        except ApiLimitReached as exc:
            self.limit = exc
            return WriteResult(False, id=record_id, error=LIMITED)
        except NotFound as exc:
            return WriteResult(False, id=record_id, error=exc.message, not_found=True)
        except ValidationError as exc:
            return WriteResult(False, id=record_id, error=exc.message, field=exc.field)
        except DeskctlError as exc:
            return WriteResult(False, id=record_id, error=exc.message, lost=True)
        return WriteResult(True, id=record.id, modified_time=record.modified_time)


class Sending:
    """A write batch sent: its results in order, once every call is answered."""

    def __init__(self, results: list[WriteResult] | list[Future[WriteResult]]) -> None:
        self._results = results

    def results(self) -> list[WriteResult]:
        return [r.result() if isinstance(r, Future) else r for r in self._results]


def sides_for(crm: Any, desk: Any, module: str, kind: str,
              crm_fields: list[str] | None = None) -> dict[Side, SideApi]:
    """The two sides of one module: a CRM module (read: ``crm_fields``, or all) and its
    Desk collection."""
    return {CRM: SideApi(CRM, crm, module, crm_fields), DESK: SideApi(DESK, desk, kind)}
