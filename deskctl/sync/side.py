"""One side of the sync (the CRM or Desk) as the engine sees it: what changed since a
cursor, records by ids, records by field values, and batched writes with one result each.
This is the only place where the two sides differ; the engine has no CRM/Desk branches."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from deskctl.errors import ApiLimitReached, DeskctlError, NotFound, ValidationError
from deskctl.models.records import Record, Tombstone, WriteResult
from deskctl.models.sync import CRM, DESK, Side

WriteKind = Literal["create", "update", "delete"]
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

    def write(self, kind: WriteKind, items: list[tuple[str | None, dict[str, Any]]]
              ) -> list[WriteResult]:
        """(record id or None for a create, payload) each; one result per item, in order.
        A call that fails as a whole fails each of its records (``lost``: it may have been
        carried out, so a create's intent stays). Once the API limit is met, the remaining
        writes answer LIMITED and ``limit`` holds the error for the caller to raise."""
        if self.side == CRM:
            try:
                if kind == "create":
                    return self.api.create_records(
                        self.name, [data for _id, data in items])
                if kind == "update":
                    return self.api.update_records(
                        self.name, [(str(i), data) for i, data in items])
                return self.api.delete_records(
                    self.name, [str(i) for i, _data in items])
            except ApiLimitReached as exc:
                self.limit = exc
                return [WriteResult(False, error=LIMITED)] * len(items)
            except DeskctlError as exc:
                return [WriteResult(False, error=exc.message, lost=True)] * len(items)

        def one(item: tuple[str | None, dict[str, Any]]) -> WriteResult:
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

        workers = max(1, int(self.api.concurrency))
        if workers == 1 or len(items) == 1:
            with self.api.write_session():
                return [one(item) for item in items]
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(one, items))


def sides_for(crm: Any, desk: Any, module: str, kind: str,
              crm_fields: list[str] | None = None) -> dict[Side, SideApi]:
    """The two sides of one module: a CRM module (read: ``crm_fields``, or all) and its
    Desk collection."""
    return {CRM: SideApi(CRM, crm, module, crm_fields), DESK: SideApi(DESK, desk, kind)}
