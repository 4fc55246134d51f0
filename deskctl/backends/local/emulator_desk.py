"""The emulator's Desk v1 side: portals, agents, departments, records (list, search, by ids,
writes, trash, the recycle bin), ticket activity, a department's From addresses, the
portal's organizationFields and email threads, in the shapes of Zoho's specifications (the
emulator then cuts every answer to its response schema, see emulator_strict)."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from deskctl.backends.desk_fields import DESK_KINDS_META
from deskctl.backends.local import activity
from deskctl.backends.local import emulator_reads as reads
from deskctl.backends.local.emulator_reads import Reply, desk_time
from deskctl.errors import NotFound, ValidationError
from deskctl.models.records import ModuleMeta, Record
from deskctl.models.tickets import DEAL_LINK_FIELD, status_type

if TYPE_CHECKING:
    from deskctl.backends.local import LocalBackend

# our field types -> organizationFields `type` (Field.json commonFieldResponse.type)
DESK_TYPES = {"text": "Text", "textarea": "Textarea", "email": "Email", "phone": "Phone",
              "website": "URL", "picklist": "Picklist", "lookup": "LookUp",
              "datetime": "DateTime", "date": "Date", "integer": "Number",
              "currency": "Currency", "boolean": "Boolean"}
ROLE_TYPES = {"admin": "Admin", "agent": "AgentPublic", "light-agent": "Light"}
ROLES_BY_TYPE = {v: k for k, v in ROLE_TYPES.items()}


def stable_id(name: str) -> str:
    """A Zoho-like numeric id for metadata the sandbox keeps by name."""
    return f"5725767{zlib.crc32(name.encode()):012d}"


def addresses(text: Any) -> list[str]:
    """'a@x, b@y' (Desk's comma-separated to/cc) -> ['a@x', 'b@y']."""
    return [t.strip() for t in str(text or "").split(",") if t.strip()]


def from_addresses(rows: list[dict[str, Any]], active: str | None) -> list[dict[str, Any]]:
    """GET /mailReplyAddress?departmentId=&isActive= (MailReplyAddress.json)."""
    return [{"id": r["id"], "address": r["address"], "displayName": r["display_name"],
             "departmentId": r["department_id"], "isActive": bool(r["is_active"]),
             "isVerified": True, "serviceProviderType": "ZohoSMTP",
             "createdTime": r["created_time"].replace("Z", ".000Z"),
             "modifiedTime": r["created_time"].replace("Z", ".000Z")}
            for r in rows if active is None or str(bool(r["is_active"])).lower() == active]


def organization_fields(meta: ModuleMeta, deal_field: str) -> list[dict[str, Any]]:
    """GET /organizationFields?module= (Field.json getFields): the portal's fields, limits,
    statuses (with their statusType) and priorities."""
    rows = []
    for f in meta.fields:
        api_name = deal_field if f.api_name == DEAL_LINK_FIELD else f.api_name
        row: dict[str, Any] = {
            "id": stable_id(f"{meta.api_name}.{api_name}"), "apiName": api_name,
            "displayLabel": f.label, "i18NLabel": f.label, "name": f.label,
            "type": "AutoNumber" if f.read_only and f.type == "text"
            else DESK_TYPES.get(f.type, "Text"),
            "isCustomField": f.custom, "isMandatory": f.required, "isEncryptedField": False,
            "isTrackLastActivityTime": False, "maxLength": f.max_length}
        if f.choices:
            row["allowedValues"] = [
                {"value": c, "statusType": status_type({"status": c})}
                if f.api_name == "status" else {"value": c} for c in f.choices]
        rows.append(row)
    return rows


def thread(event: Any, created_time: str) -> dict[str, Any]:
    """An email thread (Thread.json emailThreadKeys): the From address is the portal's for
    our replies and forwards, the customer's for theirs; `author` is who wrote it."""
    incoming = event.kind.startswith("customer")
    return {"id": event.id, "channel": "EMAIL", "direction": "in" if incoming else "out",
            "isForward": event.kind == "forward",
            "fromEmailAddress": event.author if incoming else event.data.get("from"),
            "to": ",".join(event.data.get("to", [])), "cc": ",".join(event.data.get("cc", [])),
            "summary": event.data.get("content"),
            "author": {"email": event.author, "type": "END_USER" if incoming else "AGENT"},
            # "Forwarded threads are always private" (desk-api.md §4.9)
            "visibility": "private" if event.kind == "forward" else "public",
            "createdTime": created_time}


class DeskRoutes:
    """Mixed into the Emulator, which holds the sandbox and serialises calls to it."""

    backend: LocalBackend
    deal_field: str

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
            return self._window(from_addresses(
                desk.from_addresses(query["departmentId"]), query.get("isActive")), query,
                False)
        if parts == ["organizationFields"]:
            return Reply(200, {"data": organization_fields(
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
            answer = reads.desk_window(query, lambda first, last, start, limit: desk.db.window(
                desk.portal_id, kind, first, last, start, limit),
                lambda r: self._desk_record(kind, r))
            if answer is not None:
                return Reply(*answer)
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
