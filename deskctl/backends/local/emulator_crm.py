"""The emulator's CRM v8 side: users, modules and fields, records (by page, by ids, by
search, COQL, the deleted feed) and batch writes, in the shapes of Zoho's crm-oas files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deskctl import clock
from deskctl.backends.local import LocalBackend
from deskctl.backends.local import emulator_reads as reads
from deskctl.backends.local.crm import CRM_SCOPE
from deskctl.backends.local.emulator_coql import Scan, coql
from deskctl.backends.local.emulator_desk import stable_id
from deskctl.backends.local.emulator_reads import Reply
from deskctl.errors import NotFound, ValidationError
from deskctl.models.records import FieldMeta, Record

PER_PAGE_MAX = 200


def zoho_crm_time(iso: str) -> str:
    return iso.replace("Z", "+00:00")


class CrmRoutes:
    """Mixed into the Emulator, which holds the sandbox and serialises calls to it."""

    backend: LocalBackend

    def _crm_record(self, module: str, record: Record,
                    lookups: set[str] | None = None) -> dict[str, Any]:
        """A record as CRM v8 answers it (``lookups``: the module's lookup fields, when the
        caller already knows them)."""
        if lookups is None:
            lookups = self._lookups(module)
        out: dict[str, Any] = {"id": record.id}
        for key, value in record.data.items():
            out[key] = {"id": value, "name": ""} if key in lookups else value
        out["Created_Time"] = zoho_crm_time(record.created_time)
        out["Modified_Time"] = zoho_crm_time(record.modified_time)
        return out

    def _lookups(self, module: str) -> set[str]:
        return {f.api_name for f in self.backend.crm.module(module).fields
                if f.type == "lookup"}

    def _coql_rows(self, module: str, scan: Scan) -> Iterator[dict[str, Any]]:
        """The records a COQL query reads, as CRM rows, in the order ``scan`` asks for."""
        api_name = self.backend.crm.module(module).api_name
        lookups = self._lookups(api_name)
        records = self.backend.db.by_id(CRM_SCOPE, api_name, scan.since, scan.after, scan.page) \
            if scan.by_id else self.backend.crm.list_records(api_name, scan.since)
        return (self._crm_record(api_name, r, lookups) for r in records)

    @staticmethod
    def _field_json(f: FieldMeta) -> dict[str, Any]:
        data: dict[str, Any] = {"id": stable_id(f.api_name), "api_name": f.api_name,
                                "field_label": f.label, "display_label": f.label,
                                "data_type": f.type, "system_mandatory": f.required,
                                "custom_field": f.custom, "visible": f.enabled,
                                "read_only": f.read_only, "length": f.max_length}
        if f.choices:
            data["pick_list_values"] = [{"id": stable_id(f"{f.api_name}.{c}"),
                                         "actual_value": c, "display_value": c}
                                        for c in f.choices]
        if f.lookup:
            data["lookup"] = {"module": {"api_name": f.lookup}}
        return data

    @staticmethod
    def _page(rows: list[Any], query: dict[str, str]) -> tuple[list[Any], dict[str, Any]]:
        per_page = min(int(query.get("per_page", PER_PAGE_MAX)), PER_PAGE_MAX)
        if "page_token" in query:
            start = int(query["page_token"].removeprefix("tok"))
        else:
            page = int(query.get("page", 1))
            if page * per_page > 2000:
                raise ValidationError("DISCRETE_PAGINATION_LIMIT_EXCEEDED: use page_token "
                                      "beyond 2000 records")
            start = (page - 1) * per_page
        chunk = rows[start:start + per_page]
        more = start + per_page < len(rows)
        info: dict[str, Any] = {"per_page": per_page, "count": len(chunk), "more_records": more}
        if more and start + per_page >= 2000:
            info["next_page_token"] = f"tok{start + per_page}"
        return chunk, info

    def _crm(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
             payload: Any) -> Reply:
        crm = self.backend.crm
        parts = [p for p in path.split("/") if p]
        if parts == ["users"]:
            users = crm.users()
            if query.get("type") == "CurrentUser":
                users = [crm.current_user()]
            return Reply(200, {"users": [{"id": u.id, "email": u.email, "full_name": u.name,
                                          "profile": {"name": u.profile,
                                                      "id": stable_id(u.profile)},
                                          "status": u.status}
                                         for u in users], "info": {"more_records": False}})
        if parts == ["settings", "modules"]:
            return Reply(200, {"modules": [{"id": stable_id(m.api_name),
                                            "api_name": m.api_name, "plural_label": m.label,
                                            "generated_type": "custom" if m.custom else "default",
                                            "api_supported": True} for m in crm.modules()]})
        if parts == ["settings", "fields"]:
            meta = crm.module(query.get("module", ""))
            return Reply(200, {"fields": [self._field_json(f) for f in meta.fields]})
        if parts == ["coql"] and method == "POST":
            return Reply(*coql(str((payload or {}).get("select_query", "")), self._coql_rows,
                               lambda m: {f.api_name for f in crm.module(m).fields}))
        module = crm.module(parts[0]).api_name
        since = headers.get("if-modified-since")
        if len(parts) == 1 and method == "GET" and "ids" in query:
            ids = [i for i in query["ids"].split(",") if i]
            if len(ids) > 100:
                raise ValidationError("LIMIT_EXCEEDED: at most 100 ids per call")
            found = crm.get_many(module, ids)
            if not found:
                return Reply(204)
            return Reply(200, {"data": [self._crm_record(module, r) for r in found],
                               "info": {"per_page": len(found), "count": len(found),
                                        "more_records": False}})
        if len(parts) == 1 and method == "GET":
            since_iso = clock.iso_second(clock.parse_time(since)) if since else None
            rows = [self._crm_record(module, r) for r in crm.list_records(module, since_iso)]
            if query.get("sort_order") == "desc":
                rows.reverse()
            if not rows:
                return Reply(304 if since else 204)
            chunk, info = self._page(rows, query)
            return Reply(200, {"data": chunk, "info": info})
        if parts[1:] == ["search"]:
            found = self._search(module, query.get("criteria", ""))
            if not found:
                return Reply(204)
            chunk, info = self._page([self._crm_record(module, r) for r in found], query)
            return Reply(200, {"data": chunk, "info": info})
        if parts[1:] == ["deleted"]:
            since_iso = clock.iso_second(clock.parse_time(since)) if since else None
            return Reply(*reads.crm_deleted(crm.deleted_records(module, since_iso), query))
        if len(parts) == 2 and method == "GET":
            record = self.backend.db.record(CRM_SCOPE, module, parts[1])
            return Reply(204) if record is None else Reply(
                200, {"data": [self._crm_record(module, record)]})
        if method in ("POST", "PUT") and len(parts) == 1:
            rows = (payload or {}).get("data", [])
            if len(rows) > 100:
                raise ValidationError("LIMIT_EXCEEDED: at most 100 records per call")
            unwrap = [{k: v["id"] if isinstance(v, dict) and "id" in v else v
                       for k, v in r.items()} for r in rows]
            if method == "POST":
                results = crm.create_records(module, unwrap)
            else:
                results = crm.update_records(module, [(str(r.pop("id", "")), r)
                                                      for r in unwrap])
            return self._batch(results, created=method == "POST")
        if method == "DELETE" and len(parts) == 1:
            ids = [i for i in query.get("ids", "").split(",") if i]
            if len(ids) > 100:
                raise ValidationError("LIMIT_EXCEEDED: at most 100 ids per call")
            return self._batch(crm.delete_records(module, ids))
        raise NotFound(f"no route {method} /crm/v8{path}")

    def _search(self, module: str, criteria: str) -> list[Record]:
        terms = [t.strip("()") for t in criteria.split(")or(")]
        found: dict[str, Record] = {}
        for term in terms:
            name, op, value = term.split(":", 2)
            if op != "equals":
                raise ValidationError(f"unsupported search operator {op}")
            value = value.replace("\\(", "(").replace("\\)", ")").replace("\\,", ",")
            for record in self.backend.crm.find_records(module, name, [value]):
                found[record.id] = record
        return list(found.values())

    @staticmethod
    def _batch(results: list[Any], created: bool = False) -> Reply:
        """CRM v8: 201 when every record was inserted, 200 when updated or deleted, 207 on a
        mix, 400 when none succeeded (Insert/Update/Delete Records pages, "Status codes")."""
        rows = []
        for result in results:
            if result.ok:
                details = {"id": result.id}
                if result.modified_time:
                    details["Modified_Time"] = zoho_crm_time(result.modified_time)
                rows.append({"code": "SUCCESS", "status": "success", "message": "done",
                             "details": details})
            elif result.not_found:
                rows.append({"code": "INVALID_DATA", "status": "error",
                             "message": "the id given seems to be invalid",
                             "details": {"api_name": "id", "id": result.id}})
            else:
                rows.append({"code": "INVALID_DATA", "status": "error",
                             "message": result.error, "details": {"api_name": result.field}})
        ok = sum(r["status"] == "success" for r in rows)
        status = (201 if created else 200) if ok == len(rows) else (400 if ok == 0 else 207)
        return Reply(status, {"data": rows})
