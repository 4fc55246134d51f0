"""The sandbox spoken as Zoho: CRM v8, Desk v1 and the OAuth token endpoint, in the shapes
of Zoho's specifications, over the local backend. Transport-free: `handle()` takes a
request and returns (status, headers, body), so tests call it through `responses` and
`deskctl sandbox serve` puts it on a socket. Fault injection lives in the server."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from deskctl import clock
from deskctl.backends import zohospec
from deskctl.backends.desk_fields import DESK_KINDS_META
from deskctl.backends.local import LocalBackend, activity
from deskctl.backends.local import emulator_desk as desk_shapes
from deskctl.backends.local import emulator_reads as reads
from deskctl.backends.local import emulator_strict as strict
from deskctl.backends.local.crm import CRM_SCOPE
from deskctl.backends.local.emulator_desk import addresses, stable_id, thread
from deskctl.backends.local.emulator_reads import desk_time
from deskctl.errors import DeskctlError, NotFound, ValidationError
from deskctl.models.records import FieldMeta, Record
from deskctl.models.tickets import DEAL_LINK_FIELD, status_type

PER_PAGE_MAX = 200
TYPES = {"currency": "currency", "lookup": "lookup", "picklist": "picklist"}
ROLE_TYPES = {"admin": "Admin", "agent": "AgentPublic", "light-agent": "Light"}
ROLES_BY_TYPE = {v: k for k, v in ROLE_TYPES.items()}

@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body).encode()


def zoho_crm_time(iso: str) -> str:
    return iso.replace("Z", "+00:00")


class Emulator:
    """Thread-safe: one lock around the sandbox (it has one SQLite connection)."""

    def __init__(self, backend: LocalBackend, deal_field: str = DEAL_LINK_FIELD) -> None:
        self.backend = backend
        self.tokens: set[str] = set()
        self.deal_field = deal_field
        self.lock = threading.Lock()
        self.calls: dict[str, int] = {"crm": 0, "desk": 0, "token": 0}
        #: the token answer's api_domain (`sandbox serve` sets its own address)
        self.api_domain = "https://www.zohoapis.com"

    def handle(self, method: str, url: str, headers: dict[str, str],
               body: bytes | None) -> Reply:
        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            try:
                if parsed.path == "/oauth/v2/token":
                    self.calls["token"] += 1
                    return self._token(body)
                service = "crm" if parsed.path.startswith("/crm/v8") else "desk"
                self.calls[service] += 1
                token = headers.get("authorization", "").removeprefix("Zoho-oauthtoken ")
                if token not in self.tokens:
                    return (Reply(401, {"code": "INVALID_TOKEN", "status": "error",
                                        "message": "invalid oauth token", "details": {}})
                            if service == "crm" else
                            Reply(401, {"errorCode": "INVALID_OAUTH",
                                        "message": "The OAuth Token you provided is invalid."}))
                payload = self._json(body, headers)
                op = zohospec.find(method, parsed.path)
                if op is None:
                    raise NotFound(f"no route {method} {parsed.path}")
                found = zohospec.request_problems(method, url, headers, payload)
                if found:
                    return Reply(*strict.refusal(service, found))
                if service == "crm":
                    reply = self._crm(method, parsed.path[len("/crm/v8"):], query, headers,
                                      payload)
                else:
                    reply = self._desk(method, parsed.path[len("/api/v1"):], query, headers,
                                       payload)
                reply.body = strict.answer(op, reply.status, reply.body)
                return reply
            except NotFound as exc:
                return Reply(404, {"errorCode": "URL_NOT_FOUND", "code": "NOT_FOUND",
                                   "message": exc.message, "status": "error"})
            except ValidationError as exc:
                if exc.field and not parsed.path.startswith("/crm/"):
                    # Desk: 422 INVALID_DATA naming the field (Common.json invalidData...)
                    return Reply(422, {"errorCode": "INVALID_DATA", "message": exc.message,
                                       "errors": [{"fieldName": f"/{exc.field}",
                                                   "errorType": "invalid",
                                                   "errorMessage": exc.message}]})
                return Reply(400, {"errorCode": "INVALID_DATA", "code": "INVALID_DATA",
                                   "message": exc.message, "status": "error"})
            except DeskctlError as exc:
                return Reply(400, {"errorCode": "INVALID_DATA", "code": "INVALID_DATA",
                                   "message": exc.message, "status": "error"})

    @staticmethod
    def _json(body: bytes | None, headers: dict[str, str]) -> Any:
        if not body or "json" not in headers.get("content-type", "json"):
            return None
        try:
            return json.loads(body)
        except ValueError:
            raise ValidationError("the body is not JSON") from None

    def _token(self, body: bytes | None) -> Reply:
        form = {k: v[-1] for k, v in parse_qs((body or b"").decode()).items()}
        if form.get("grant_type") != "refresh_token" or not all(
                form.get(k) for k in ("client_id", "client_secret", "refresh_token")):
            return Reply(200, {"error": "invalid_client"})  # Zoho: errors with HTTP 200
        token = "1000." + secrets.token_hex(16)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer",
                           "api_domain": self.api_domain})

    # CRM v8

    def _crm_record(self, module: str, record: Record) -> dict[str, Any]:
        meta = self.backend.crm.module(module)
        out: dict[str, Any] = {"id": record.id}
        for key, value in record.data.items():
            fmeta = meta.field(key)
            out[key] = {"id": value, "name": ""} if fmeta and fmeta.type == "lookup" else value
        out["Created_Time"] = zoho_crm_time(record.created_time)
        out["Modified_Time"] = zoho_crm_time(record.modified_time)
        return out

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
            return Reply(*reads.coql(
                str((payload or {}).get("select_query", "")),
                lambda m: [self._crm_record(m, r) for r in crm.list_records(
                    crm.module(m).api_name)],
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
            since_iso = clock.iso(clock.parse_time(since)) if since else None
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
            since_iso = clock.iso(clock.parse_time(since)) if since else None
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

    # Desk v1

    def _desk_record(self, kind: str, record: Record) -> dict[str, Any]:
        """Custom fields travel under "cf" (Ticket.json/Contact.json `cf`); the deal-link
        field under the name the portal gave it. Every standard field is there, null when
        blank, as Zoho answers it (the sandbox keeps no key for a blank field); the strict
        layer then cuts the answer to its view (a list view loses modifiedTime, title...)."""
        data: dict[str, Any] = {f.api_name: None for f in DESK_KINDS_META[kind].fields
                                if not f.api_name.startswith("cf_")}
        data.update({k: v for k, v in record.data.items() if not k.startswith("cf_")})
        data.update(id=record.id, createdTime=desk_time(record.created_time),
                    modifiedTime=desk_time(record.modified_time))
        data["cf"] = {(self.deal_field if k == DEAL_LINK_FIELD else k): v
                      for k, v in record.data.items() if k.startswith("cf_")}
        if kind == "tickets":
            data["cf"].setdefault(self.deal_field, None)
            # required in every ticket answer (Ticket.json commonResponse, listviewCommonJson;
            # Search.json searchTicketResponseFields): Open, On Hold or Closed
            data["statusType"] = status_type(record.data)
        return data

    def _from_desk(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = {k: v for k, v in payload.items() if k != "cf"}
        for key, value in (payload.get("cf") or {}).items():
            data[DEAL_LINK_FIELD if key == self.deal_field else key] = value
        return data

    @staticmethod
    def _window(rows: list[Any], query: dict[str, str], search: bool) -> Reply:
        start = int(query.get("from", 0 if search else 1))
        if start > 4999:
            raise ValidationError("The value passed for field 'from' exceeds the range of "
                                  "'0-4999'.")
        limit = int(query.get("limit", 10))
        chunk = rows[start - (0 if search else 1):][:limit]
        return Reply(200, {"data": chunk}) if chunk else Reply(204)

    def _desk(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
              payload: Any) -> Reply:
        parts = [p for p in path.split("/") if p]
        if parts == ["organizations"]:
            return Reply(200, {"data": [{"id": int(p.id), "portalName": p.name,
                                         "companyName": p.name, "isAdminInOrg": True,
                                         "primaryContact": p.admin_email}
                                        for p in self.backend.portals()]})
        org = headers.get("orgid")
        if not org:
            raise ValidationError("orgId header is missing")
        desk = self.backend.desk(org)
        if parts == ["agents"] and method == "GET":
            return self._window([{"id": a.id, "emailId": a.email, "name": a.name,
                                  "lastName": a.name.split(" ")[-1],
                                  "rolePermissionType": ROLE_TYPES[a.role],
                                  "isConfirmed": a.status != "invited",
                                  "status": "DISABLED" if a.status == "deactivated"
                                  else "ACTIVE"} for a in desk.agents()], query, False)
        if parts == ["agents"] and method == "POST":
            name = " ".join(filter(None, [payload.get("firstName"), payload["lastName"]]))
            invited = desk.invite_agent(payload["emailId"], name,
                                        ROLES_BY_TYPE[payload["rolePermissionType"]])
            return Reply(200, {"id": invited.id, "emailId": invited.email,
                               "isConfirmed": False})
        if parts[:1] == ["agents"] and method == "PATCH":
            agent = next((a for a in desk.agents() if a.id == parts[1]), None)
            if agent is None:
                raise NotFound(f"no agent {parts[1]}")
            desk.set_agent_role(agent.email, ROLES_BY_TYPE[payload["rolePermissionType"]])
            return Reply(200, {"id": agent.id})
        if parts == ["departments"]:
            return self._window([{"id": d["id"], "name": d["name"], "isEnabled": True}
                                 for d in desk.departments()], query, False)
        if parts == ["customerHappiness"] and method == "GET":
            rows = activity.happiness(desk, query)
            return Reply(200, {"data": rows}) if rows else Reply(204)
        if parts == ["mailReplyAddress"]:
            return self._window(desk_shapes.from_addresses(
                desk.from_addresses(query["departmentId"]), query.get("isActive")), query,
                False)
        if parts == ["organizationFields"]:
            return Reply(200, {"data": desk_shapes.organization_fields(
                desk.fields(query["module"]), self.deal_field)})
        if parts == ["recycleBin"] and method == "GET":
            return Reply(*reads.recycle_bin({k: desk.deleted_records(k) for k in
                                             ("contacts", "accounts", "tickets")}, query))
        kind = parts[0]
        if kind not in ("contacts", "accounts", "tickets"):
            raise NotFound(f"no route {method} /api/v1{path}")
        if parts == ["contacts", "contactsByIds"] and method == "GET":
            ids = [i for i in query.get("ids", "").split(",") if i]
            if not ids or len(ids) > 20:
                raise ValidationError("ids: between 1 and 20 contact ids")
            found = desk.get_many(kind, ids)
            return Reply(200, {"data": [self._desk_record(kind, r) for r in found]}) \
                if found else Reply(204)
        if parts[1:] == ["moveToTrash"]:
            for record_id in next(iter(payload.values())):
                desk.delete_record(kind, record_id)
            return Reply(204)
        if len(parts) == 1 and method == "GET":
            rows = [self._desk_record(kind, r) for r in desk.list_records(kind)]
            if query.get("sortBy", "").startswith("-"):
                rows.reverse()
            return self._window(rows, query, False)
        if parts[1:] == ["search"]:
            return Reply(*reads.desk_search(list(desk.list_records(kind)), query,
                                            lambda r: self._desk_record(kind, r)))
        if len(parts) == 1 and method == "POST":
            return Reply(200, self._desk_record(kind, desk.create_record(
                kind, self._from_desk(kind, payload))))
        record_id = parts[1]
        if len(parts) == 2 and method == "GET":
            return Reply(200, self._desk_record(kind, desk.get_record(kind, record_id)))
        if len(parts) == 2 and method == "PATCH":
            return Reply(200, self._desk_record(kind, desk.update_record(
                kind, record_id, self._from_desk(kind, payload))))
        return self._ticket_activity(desk, method, parts, query, payload)

    def _ticket_activity(self, desk: Any, method: str, parts: list[str],
                         query: dict[str, str], payload: Any) -> Reply:
        ticket_id, what = parts[1], parts[2] if len(parts) > 2 else ""
        if what == "History" and method == "GET":
            rows = activity.history(desk, ticket_id, query)
            return Reply(200, {"data": rows}) if rows else Reply(204)
        if what == "threads" and method == "GET":
            rows = [thread(e, desk_time(e.created_time)) for e in desk.ticket_events(ticket_id)
                    if e.kind in ("reply", "forward", "customer-reply")]
            return self._window(rows, query, False)
        if what == "comments" and method == "GET":
            rows = [{"id": e.id, "content": e.data.get("content"),
                     "isPublic": e.data.get("public", True),
                     "commenter": {"email": e.author, "type": "AGENT" if e.kind == "comment"
                                   else "END_USER"},
                     "commentedTime": desk_time(e.created_time)}
                    for e in desk.ticket_events(ticket_id)
                    if e.kind in ("comment", "customer-comment")]
            return self._window(rows, query, False)
        author = self.backend.crm.current_user().email
        if what == "sendReply":
            kind = "forward" if payload.get("isForward") else "reply"
            event = desk.add_ticket_event(ticket_id, kind, author, {
                "content": payload["content"], "to": addresses(payload.get("to")),
                "cc": addresses(payload.get("cc")), "from": payload["fromEmailAddress"]})
            return Reply(200, {**thread(event, desk_time(event.created_time)),
                               "content": payload["content"]})
        if what == "comments":
            event = desk.add_ticket_event(ticket_id, "comment", author, {
                "content": payload["content"], "public": payload.get("isPublic", True)})
            return Reply(200, {"id": event.id})
        if what == "attachments":
            event = desk.add_ticket_event(ticket_id, "attachment", author,
                                          {"name": "upload", "size": 0})
            return Reply(200, {"id": event.id, "name": "upload"})
        raise NotFound(f"no route {method} /api/v1/{'/'.join(parts)}")
