"""The simulated Zoho CRM: users, modules with field metadata, records, the Desk tab."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from deskctl.backends.base import CrmApi
from deskctl.backends.local.db import CRM_SCOPE, MICROSECOND, SandboxDb
from deskctl.backends.local.metadata import CRM_MODULES
from deskctl.errors import NotFound, ValidationError
from deskctl.models.people import CrmUser
from deskctl.models.records import ModuleMeta, Record, Tombstone, WriteResult, validate


def empty_sandbox() -> NotFound:
    return NotFound("the sandbox has no CRM users yet: run 'deskctl sandbox seed' first")


class LocalCrm(CrmApi):
    """``fine``: records carry the sandbox's fine modified times (1 µs steps) and are
    listed by them; else whole seconds, as Zoho's (the emulator's view)."""

    def __init__(self, db: SandboxDb, acting_email: str | None, fine: bool = True) -> None:
        self.db = db
        self.acting_email = acting_email
        self.fine = fine
        self.time_step: timedelta = MICROSECOND if fine else CrmApi.time_step
        # in process, the sandbox stamps with our own clock
        self.clock_skew: timedelta = timedelta(0) if fine else CrmApi.clock_skew

    def users(self) -> list[CrmUser]:
        rows = self.db.conn.execute("SELECT * FROM crm_users ORDER BY rowid").fetchall()
        return [CrmUser(r["id"], r["email"], r["name"], r["profile"], r["status"]) for r in rows]

    def user(self, email: str) -> CrmUser | None:
        return next((u for u in self.users() if u.email.lower() == email.lower()), None)

    def current_user(self) -> CrmUser:
        users = self.users()
        if not users:
            raise empty_sandbox()
        if self.acting_email:
            user = self.user(self.acting_email)
            if user is None:
                raise NotFound(f"{self.acting_email} is not a CRM user of the sandbox "
                               "(see 'deskctl sandbox info')")
            return user
        owner = self.db.meta("owner")
        return next((u for u in users if u.email == owner), users[0])

    def modules(self) -> list[ModuleMeta]:
        return list(CRM_MODULES)

    def _kind(self, module: str) -> str:
        return self.module(module).api_name

    def list_records(self, module: str, modified_since: str | None = None,
                     fields: list[str] | None = None) -> Iterator[Record]:
        return self.db.records(CRM_SCOPE, self._kind(module), modified_since, fine=self.fine)

    def get_record(self, module: str, record_id: str) -> Record:
        kind = self._kind(module)
        record = self.db.record(CRM_SCOPE, kind, record_id, self.fine)
        if record is None:
            raise NotFound(f"no {kind} record with id {record_id}")
        return record

    def get_many(self, module: str, ids: list[str]) -> list[Record]:
        return self.db.many(CRM_SCOPE, self._kind(module), ids, self.fine)

    def find_records(self, module: str, field: str, values: list[str]) -> list[Record]:
        return self.db.find(CRM_SCOPE, self._kind(module), field, values, self.fine)

    def _problems(self, meta: ModuleMeta, data: dict[str, Any],
                  partial: bool) -> list[tuple[str, str]]:
        return validate(meta, data, partial=partial, exists=lambda target, record_id:
                        self.db.exists(CRM_SCOPE, target, record_id))

    def _result(self, problems: list[tuple[str, str]], write: Any) -> WriteResult:
        if problems:
            return WriteResult(False, error="; ".join(r for _f, r in problems),
                               field=problems[0][0])
        record = write()
        return WriteResult(True, id=record.id, modified_time=record.modified_time)

    def create_records(self, module: str, records: list[dict[str, Any]]) -> list[WriteResult]:
        meta = self.module(module)
        results = []
        with self.db.transaction():
            for data in records:
                clean = {k: v for k, v in data.items() if v is not None}
                results.append(self._result(
                    self._problems(meta, clean, partial=False),
                    lambda clean=clean: self.db.insert(CRM_SCOPE, meta.api_name, clean,
                                                      fine=self.fine)))
        return results

    def update_records(self, module: str,
                       updates: list[tuple[str, dict[str, Any]]]) -> list[WriteResult]:
        meta = self.module(module)
        results = []
        with self.db.transaction():
            for record_id, changes in updates:
                record = self.db.record(CRM_SCOPE, meta.api_name, record_id)
                if record is None:
                    results.append(WriteResult(False, id=record_id, not_found=True,
                                               error=f"no {meta.api_name} record with id "
                                                     f"{record_id}"))
                    continue
                merged = {k: v for k, v in {**record.data, **changes}.items() if v is not None}
                results.append(self._result(
                    self._problems(meta, changes, partial=True),
                    lambda r=record, m=merged: self.db.replace(CRM_SCOPE, meta.api_name, r, m,
                                                               self.fine)))
        return results

    def delete_records(self, module: str, ids: list[str]) -> list[WriteResult]:
        kind = self._kind(module)
        results = []
        with self.db.transaction():
            for record_id in ids:
                if not self.db.exists(CRM_SCOPE, kind, record_id):
                    results.append(WriteResult(False, id=record_id, not_found=True,
                                               error=f"no {kind} record with id {record_id}"))
                else:  # an account's contacts keep its id: the CRM documents nothing of
                    # them (docs/deletions.md), and a dangling lookup asks most of a sync
                    self.db.remove(CRM_SCOPE, kind, record_id)
                    results.append(WriteResult(True, id=record_id))
        return results

    def deleted_records(self, module: str, since: str | None = None) -> list[Tombstone]:
        return [Tombstone(i, t) for i, t in self.db.tombstones(CRM_SCOPE, self._kind(module),
                                                               since)]

    def desk_tab_visible(self) -> bool:
        return bool(self.db.meta("desk_tab", True))

    def set_desk_tab(self, visible: bool) -> None:
        self.db.set_meta("desk_tab", visible)


def raise_first(results: list[WriteResult]) -> str:
    """The id of a single-record write, or its error raised as ValidationError/NotFound."""
    result = results[0]
    if result.ok and result.id:
        return result.id
    message = result.error or "rejected"
    if message.startswith("no "):
        raise NotFound(message)
    raise ValidationError(message, field=result.field)
