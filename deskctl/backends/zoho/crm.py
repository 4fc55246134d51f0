"""Zoho CRM v8: users, module and field metadata, records (paged, incremental), search,
batch writes of 100 with per-record results, and the deleted-records feed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.backends.base import CrmApi
from deskctl.errors import BackendError, NotFound, Unsupported, ValidationError
from deskctl.models.people import CrmUser
from deskctl.models.records import FieldMeta, ModuleMeta, Record, Tombstone, WriteResult

if TYPE_CHECKING:
    from deskctl.backends.zoho.http import ZohoHttp

PER_PAGE = 200
MAX_FIELDS = 50
# COQL answers up to 2,000 records per query (COQL-Limitations), but crm-oas coql.json
# declares at most 200 in `data`; 200 also costs one credit (COQL-Overview)
COQL_LIMIT = 200
DELETED_PAGES = 10  # pages of 200 the deleted feed serves: 2,000 records
SEARCH_CRITERIA = 10  # Zoho's limit of OR-ed criteria per search
TYPES = {"text": "text", "textarea": "textarea", "email": "email", "phone": "phone",
         "website": "website", "picklist": "picklist", "date": "date", "datetime": "datetime",
         "currency": "currency", "double": "currency", "integer": "integer",
         "bigint": "integer", "boolean": "boolean", "lookup": "lookup"}
SYSTEM = {"id", "Created_Time", "Modified_Time", "Created_By", "Modified_By", "Owner"}


def zoho_time(text: str) -> str:
    """'2019-07-25T15:26:49+05:30' -> '2019-07-25T09:56:49Z'."""
    return clock.iso_second(datetime.fromisoformat(text.replace("Z", "+00:00")))


def http_date(iso: str) -> str:
    """Our ISO time as Zoho's If-Modified-Since value (ISO 8601 with offset)."""
    return clock.parse_time(iso).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def to_record(raw: dict[str, Any], asked: list[str] | None = None) -> Record:
    """A CRM answer as a Record; fields ``asked`` for but absent from the answer (Zoho
    leaves out what the user's profile may not see) are unknown, not blank."""
    data = {}
    for key, value in raw.items():
        if key in SYSTEM or key.startswith("$"):
            continue
        data[key] = value["id"] if isinstance(value, dict) and "id" in value else value
    unknown = frozenset(n for n in asked or () if n not in raw and n not in SYSTEM)
    return Record(str(raw["id"]), {k: v for k, v in data.items() if v is not None},
                  zoho_time(raw["Created_Time"]) if raw.get("Created_Time") else "",
                  zoho_time(raw["Modified_Time"]) if raw.get("Modified_Time") else "",
                  unknown)


def _second_before(iso: str) -> str:
    return clock.iso_second(clock.parse_time(iso) - timedelta(seconds=1))


def _coql_text(value: str) -> str:
    """A value inside a COQL string literal (quotes escaped)."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _escape(value: str) -> str:
    return "".join("\\" + c if c in "(),\\" else c for c in value)


class ZohoCrm(CrmApi):
    read_page = COQL_LIMIT
    max_read_fields = MAX_FIELDS

    def __init__(self, http: ZohoHttp, triggers: tuple[str, ...] = ()) -> None:
        self.http = http
        self.meter = http.meter
        self.triggers = list(triggers)
        self._fields: dict[str, ModuleMeta] = {}

    # users

    def _users(self, kind: str) -> list[CrmUser]:
        users, page = [], 1
        while True:
            body = self.http.request("GET", "/users", params={"type": kind, "page": page,
                                                              "per_page": PER_PAGE}) or {}
            for raw in body.get("users", []):
                users.append(CrmUser(str(raw["id"]), str(raw.get("email", "")),
                                     str(raw.get("full_name") or raw.get("last_name") or ""),
                                     str((raw.get("profile") or {}).get("name", "")),
                                     str(raw.get("status", "active"))))
            if not body.get("info", {}).get("more_records"):
                return users
            page += 1

    def users(self) -> list[CrmUser]:
        return self._users("ActiveUsers")

    @cached_property
    def _me(self) -> CrmUser:
        found = self._users("CurrentUser")
        if not found:
            raise NotFound("Zoho did not say who owns these credentials")
        return found[0]

    def current_user(self) -> CrmUser:
        return self._me

    # metadata

    @cached_property
    def _module_names(self) -> list[tuple[str, str, bool]]:
        body = self.http.request("GET", "/settings/modules") or {}
        return [(m["api_name"], m.get("plural_label") or m["api_name"],
                 m.get("generated_type") == "custom")
                for m in body.get("modules", []) if m.get("api_supported", True)]

    def _meta(self, api_name: str, label: str, custom: bool) -> ModuleMeta:
        if api_name not in self._fields:
            body = self.http.request("GET", "/settings/fields", params={"module": api_name})
            fields = []
            for raw in (body or {}).get("fields", []):
                kind = TYPES.get(raw.get("data_type", "text"), "text")
                fields.append(FieldMeta(
                    raw["api_name"], raw.get("field_label", raw["api_name"]), kind,
                    required=bool(raw.get("system_mandatory")),
                    custom=bool(raw.get("custom_field")), enabled=raw.get("visible", True),
                    read_only=bool(raw.get("read_only")), max_length=int(raw.get("length") or
                                                                          255),
                    choices=tuple(p["actual_value"] for p in raw.get("pick_list_values") or []),
                    lookup=((raw.get("lookup") or {}).get("module") or {}).get("api_name")))
            self._fields[api_name] = ModuleMeta(api_name, label, custom, tuple(fields))
        return self._fields[api_name]

    def modules(self) -> list[ModuleMeta]:
        return [self._meta(*entry) for entry in self._module_names]

    def module(self, name: str) -> ModuleMeta:
        for api_name, label, custom in self._module_names:
            if api_name.lower() == name.lower():
                return self._meta(api_name, label, custom)
        raise NotFound(f"unknown CRM module {name!r}")

    def _read_fields(self, module: str, fields: list[str] | None) -> list[str]:
        """id, Modified_Time and the fields asked for (by default every enabled field and
        Created_Time). Zoho answers at most 50 fields per read: getRecords refuses more
        with LIMIT_EXCEEDED and COQL's SELECT takes "up to 50 field API names" (crm-api.md
        §2, §8.2; zoho.com/crm/developer/docs/api/v8/COQL-Overview.html), so more is an
        error here, before any request, never a silently shorter record."""
        meta = self.module(module)
        if fields is None:
            fields = ["Created_Time"] + [f.api_name for f in meta.fields if f.enabled]
        names = list(dict.fromkeys(["id", "Modified_Time", *fields]))
        if len(names) - 1 > MAX_FIELDS:  # id is always answered and not counted
            raise ValidationError(
                f"{meta.api_name}: {len(names) - 1} fields to read with Modified_Time, but "
                f"Zoho CRM answers at most {MAX_FIELDS} fields per read; map at most "
                f"{MAX_FIELDS - 1} fields of {meta.api_name}")
        return names

    # reading

    def list_records(self, module: str, modified_since: str | None = None,
                     fields: list[str] | None = None) -> Iterator[Record]:
        """Oldest modification first, through COQL in keyset windows on (Modified_Time,
        id): each query starts after the last record of the one before, so a record edited
        during the listing moves to the end and nothing shifts past a page (offset pages
        would), and there is no 100,000-record ceiling (page_token stops there with
        PAGINATION_LIMIT_EXCEEDED; COQL's OFFSET too; crm-api.md §2, §8.2)."""
        api_name = self.module(module).api_name
        names = self._read_fields(api_name, fields)
        select = f"select {', '.join(n for n in names if n != 'id')} from {api_name}"
        order = f"order by Modified_Time asc, id asc limit {COQL_LIMIT}"
        where = (f"(Modified_Time >= '{http_date(modified_since)}')" if modified_since
                 else "(id is not null)")
        while True:
            body = self.http.request("POST", "/coql", json={
                "select_query": f"{select} where {where} {order}"}) or {}
            rows = body.get("data", [])
            for raw in rows:
                yield to_record(raw, names)
            if not rows or not body.get("info", {}).get("more_records"):
                return
            last = rows[-1]
            when, after = _coql_text(last["Modified_Time"]), _coql_text(str(last["id"]))
            where = (f"((Modified_Time > '{when}') or ((Modified_Time = '{when}') and "
                     f"(id > '{after}')))")

    def get_record(self, module: str, record_id: str) -> Record:
        api_name = self.module(module).api_name
        try:
            body = self.http.request("GET", f"/{api_name}/{record_id}")
        except NotFound:
            body = None
        if not body or not body.get("data"):
            raise NotFound(f"no {api_name} record with id {record_id}")
        return to_record(body["data"][0])

    def get_many(self, module: str, ids: list[str]) -> list[Record]:
        """Get Records with `ids`, 100 per call (the write and delete limit; reference/
        crm-api.md section 2 lists `ids` among Get Records' parameters, and `fields` is
        mandatory in v8: https://www.zoho.com/crm/developer/docs/api/v8/get-records.html)."""
        api_name = self.module(module).api_name
        names = self._read_fields(api_name, None)
        found: list[Record] = []
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), self.write_batch):
            body = self.http.request("GET", f"/{api_name}", params={
                "ids": ",".join(wanted[start:start + self.write_batch]),
                "fields": ",".join(n for n in names if n != "id")})
            found += [to_record(raw, names) for raw in (body or {}).get("data", [])]
        return found

    def find_records(self, module: str, field: str, values: list[str]) -> list[Record]:
        api_name = self.module(module).api_name
        found: list[Record] = []
        unique = sorted(set(values))
        for start in range(0, len(unique), SEARCH_CRITERIA):
            chunk = unique[start:start + SEARCH_CRITERIA]
            criteria = "or".join(f"({field}:equals:{_escape(v)})" for v in chunk)
            page = 1
            while True:
                body = self.http.request("GET", f"/{api_name}/search", params={
                    "criteria": f"({criteria})" if len(chunk) > 1 else criteria,
                    "page": page, "per_page": PER_PAGE})
                if not body:
                    break
                found += [to_record(r) for r in body.get("data", [])]
                if not body.get("info", {}).get("more_records"):
                    break
                page += 1
        return found

    def deleted_records(self, module: str, since: str | None = None) -> list[Tombstone]:
        """The whole deleted-records feed since ``since``. It pages with `page` only and
        stops at 2,000 records (no page_token: getDeletedRecords in crm-oas record.json;
        crm-api.md §4.2), so a longer feed is read in windows: after 10 pages the window
        restarts at the newest deletion seen (If-Modified-Since, "records modified after
        the specified timestamp": one second earlier, in case Zoho means strictly after).
        That holds only if the feed comes oldest first, as Zoho's example does; a feed in
        another order, or a window that brings nothing new, is an error, never a shorter
        feed."""
        api_name = self.module(module).api_name
        since = zoho_time(since) if since else None  # its second, as the times compared
        stones: dict[str, str] = {}
        window = _second_before(since) if since else None  # `since` is inclusive
        while True:
            newest, fresh, more = self._deleted_window(api_name, window, since, stones)
            if not more:
                break
            restart = _second_before(newest)
            if not fresh or (window is not None and restart <= window):
                raise BackendError(
                    f"Zoho's deleted-records feed of {api_name} holds more than "
                    f"{DELETED_PAGES * PER_PAGE} deletions, and they do not come oldest "
                    f"first or share one time (around {newest}): it cannot be read past them")
            window = restart
        return sorted((Tombstone(i, t) for i, t in stones.items()),
                      key=lambda s: (s.deleted_time, s.id))

    def _deleted_window(self, api_name: str, window: str | None, since: str | None,
                        stones: dict[str, str]) -> tuple[str, bool, bool]:
        """Pages 1-10 from ``window`` into ``stones``: (newest time, whether the window can
        be moved on: it brought something new, oldest first; whether there is more)."""
        headers = {"If-Modified-Since": http_date(window)} if window else None
        newest, fresh, ordered = window or "", False, True
        previous = ""
        for page in range(1, DELETED_PAGES + 1):
            body = self.http.request("GET", f"/{api_name}/deleted", params={
                "type": "all", "page": page, "per_page": PER_PAGE}, headers=headers)
            for raw in (body or {}).get("data", []):
                when = zoho_time(raw["deleted_time"])
                ordered, previous, newest = ordered and when >= previous, when, max(newest,
                                                                                     when)
                if (since is None or when >= since) and stones.get(str(raw["id"])) != when:
                    stones[str(raw["id"])] = when
                    fresh = True
            if not body or not body.get("info", {}).get("more_records"):
                return newest, fresh and ordered, False
        return newest, fresh and ordered, True

    # writing: batches of up to 100, one result per record. `trigger` names the automation
    # (workflow, approval, blueprint, ...) a write may fire: omitted, Zoho runs all of it on
    # every synced record; [] runs none (crm-oas v8 record.json Body_Wrapper.trigger,
    # zoho.com/crm/developer/docs/api/v8/insert-records.html). zoho.crm_triggers sets it.

    def _payload(self, module: str, data: dict[str, Any]) -> dict[str, Any]:
        meta = self.module(module)
        out: dict[str, Any] = {}
        for key, value in data.items():
            field = meta.field(key)
            out[key] = {"id": value} if field and field.type == "lookup" and value else value
        return out

    def _results(self, body: Any, count: int) -> list[WriteResult]:
        rows: list[dict[str, Any]] = (body or {}).get("data", [])
        results = []
        for i in range(count):
            row: dict[str, Any] = rows[i] if i < len(rows) else {"status": "error"}
            details: dict[str, Any] = row.get("details") or {}
            if row.get("status") == "success":
                # details carry the written record's Modified_Time (reference/crm-api.md
                # section 3, sample 201)
                modified = details.get("Modified_Time")
                results.append(WriteResult(True, id=str(details.get("id")),
                                           modified_time=zoho_time(modified) if modified
                                           else None))
            else:
                field = details.get("api_name")
                # an update of a deleted id: INVALID_DATA on the `id` key ("the id given
                # seems to be invalid", https://www.zoho.com/crm/developer/docs/api/v8/
                # update-records.html, Possible Errors)
                gone = row.get("code") == "INVALID_DATA" and field == "id"
                results.append(WriteResult(False, id=details.get("id"), field=field,
                                           not_found=gone,
                                           error=f"{row.get('code', 'ERROR')}: "
                                                 f"{row.get('message', 'rejected')}"
                                                 + (f" ({field})" if field else "")))
        return results

    def _batched(self, items: list[Any], write: Any) -> list[WriteResult]:
        results: list[WriteResult] = []
        for start in range(0, len(items), self.write_batch):
            results += write(items[start:start + self.write_batch])
        return results

    def create_records(self, module: str, records: list[dict[str, Any]]) -> list[WriteResult]:
        api_name = self.module(module).api_name
        return self._batched(records, lambda batch: self._results(self.http.request(
            "POST", f"/{api_name}", json={"data": [self._payload(api_name, r) for r in batch],
                                          "trigger": self.triggers}), len(batch)))

    def update_records(self, module: str,
                       updates: list[tuple[str, dict[str, Any]]]) -> list[WriteResult]:
        api_name = self.module(module).api_name
        return self._batched(updates, lambda batch: self._results(self.http.request(
            "PUT", f"/{api_name}", json={"data": [{"id": i, **self._payload(api_name, d)}
                                                  for i, d in batch],
                                         "trigger": self.triggers}), len(batch)))

    def delete_records(self, module: str, ids: list[str]) -> list[WriteResult]:
        api_name = self.module(module).api_name
        return self._batched(ids, lambda batch: self._results(self.http.request(
            "DELETE", f"/{api_name}", params={
                "ids": ",".join(batch),
                # deletes take no `trigger`; workflows run unless wf_trigger=false
                # (crm-oas v8 record.json Delete Records parameters)
                "wf_trigger": str("workflow" in self.triggers).lower()}), len(batch)))

    # the Desk tab has no public API

    def desk_tab_visible(self) -> bool:
        raise Unsupported("Zoho's public APIs do not expose the CRM's Desk tab: check it in "
                          "the CRM under Setup > Customization > Modules and Fields")

    def set_desk_tab(self, visible: bool) -> None:
        raise Unsupported("Zoho's public APIs cannot show or hide the CRM's Desk tab: do it "
                          "in the CRM under Setup > Customization > Modules and Fields")
