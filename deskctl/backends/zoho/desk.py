"""Zoho Desk v1 for one organization (portal): agents, departments, contacts, accounts,
tickets with threads, comments and attachments.

Lists page with from/limit (1-based; searches 0-based); 204 means empty; `from` stops at
4999. Records are read through the search API in modified-time windows (see
`list_records`); deletions come from the recycle bin.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.backends.base import DESK_KINDS, DeskApi
from deskctl.backends.desk_fields import DESK_KINDS_META
from deskctl.backends.zoho.activity import read_history, read_ratings
from deskctl.backends.zoho.desk_windows import END, EPOCH, MAX_FROM, desk_range, windowed
from deskctl.errors import NotFound, RuleViolation, Unsupported, ValidationError
from deskctl.models.people import Agent
from deskctl.models.records import FieldMeta, ModuleMeta, Record, Tombstone, ensure_valid, instant
from deskctl.models.tickets import DEAL_LINK_FIELD, TicketEvent, wanted

if TYPE_CHECKING:
    from deskctl.backends.zoho.http import ZohoHttp
    from deskctl.backends.zoho.settings import ZohoSettings

BY_IDS = 20
LIMITS = {"contacts": 99, "accounts": 99, "tickets": 100}
RECYCLE_LIMIT = 100  # recycleBin: "the maximum value supported is 100"
ROLE_TYPES = {"admin": "Admin", "agent": "AgentPublic", "light-agent": "Light"}
# what each search can filter on (Desk's specification); anything else goes through _all
SEARCH_FIELDS = {"contacts": {"lastName", "firstName"}, "accounts": {"accountName"},
                 "tickets": {"subject", "contactId"}}
TRASH_KEYS = {"contacts": "contactIds", "accounts": "accountIds", "tickets": "ticketIds"}
SKIP = {"id", "createdTime", "modifiedTime", "webUrl", "cf", "customFields", "isDeleted",
        "isTrashed", "zohoCRMContact", "zohoCRMAccount", "customerHappiness", "photoURL"}
# organizationFields `type` (Field.json commonFieldResponse.type) -> our field types
FIELD_TYPES = {"Text": "text", "Textarea": "textarea", "LargeText": "textarea",
               "Email": "email", "Phone": "phone", "Fax": "phone", "URL": "website",
               "Picklist": "picklist", "Date": "date", "DateTime": "datetime",
               "Number": "integer", "Decimal": "currency", "Currency": "currency",
               "Percent": "currency", "Boolean": "boolean", "Checkbox": "boolean",
               "LookUp": "lookup", "Lookup": "lookup"}
# the standard lookups' targets (organizationFields names none for them)
LOOKUPS = {"contactId": "contacts", "accountId": "accounts", "departmentId": "departments",
           "assigneeId": "agents"}
KIND_LABELS = {"contacts": "Contacts", "accounts": "Accounts", "tickets": "Tickets"}


def desk_time(text: str | None) -> str:
    """'2016-06-21T13:16:14.000Z' -> '2016-06-21T13:16:14Z'."""
    return clock.iso_second(clock.parse_time(text)) if text else ""


class ZohoDesk(DeskApi):
    read_page = min(LIMITS.values()) - 1  # each search re-reads the last row before it

    def __init__(self, http: ZohoHttp, portal_id: str, settings: ZohoSettings) -> None:
        super().__init__(portal_id)
        self.http = http
        self.meter = http.meter
        self.concurrency = settings.concurrency
        self.deal_field = settings.deal_link_field
        self._fields: dict[str, ModuleMeta] = {}
        self._from_addresses: dict[str, list[str]] = {}

    # records

    def _record(self, raw: dict[str, Any], kind: str | None = None) -> Record:
        """A Desk answer as a Record. With ``kind``, the standard fields the answer did not
        carry at all (Zoho omits fields hidden from the user's profile; list views omit
        many) are unknown, not blank."""
        data = {k: v for k, v in raw.items() if k not in SKIP and v is not None
                and not isinstance(v, (dict, list))}
        custom = raw.get("cf")
        for key, value in (custom or {}).items():  # custom fields: {"cf": {"cf_x": v}}
            if value is not None:
                data[DEAL_LINK_FIELD if key == self.deal_field else key] = value
        unknown: frozenset[str] = frozenset()
        if kind is not None:  # Desk's standard fields; custom ones when "cf" is missing
            unknown = frozenset(
                f.api_name for f in DESK_KINDS_META[kind].fields
                if (f.custom and not isinstance(custom, dict))
                or (not f.custom and f.api_name not in raw))
        # no modifiedTime (contactsByIds answers the list shape): unknown, "" (see Record)
        return Record(str(raw["id"]), data, desk_time(raw.get("createdTime")),
                      desk_time(raw.get("modifiedTime")), unknown)

    def _body(self, data: dict[str, Any]) -> dict[str, Any]:
        """Custom fields go under "cf" (Ticket.json/Contact.json/Account.json request bodies
        are closed: a top-level cf_x is answered 422)."""
        body = {k: v for k, v in data.items() if not k.startswith("cf_")}
        custom = {(self.deal_field if k == DEAL_LINK_FIELD else k): v
                  for k, v in data.items() if k.startswith("cf_")}
        if custom:
            body["cf"] = custom
        return body

    def _pages(self, path: str, limit: int, params: dict[str, Any],
               search: bool = False) -> tuple[list[dict[str, Any]], bool]:
        """All rows of a listing, and whether Desk's `from` cap cut it short."""
        rows: list[dict[str, Any]] = []
        start = 0 if search else 1
        while start <= MAX_FROM:
            body = self.http.request("GET", path, params={**params, "from": start,
                                                          "limit": limit})
            page = (body or {}).get("data", [])
            rows += page
            if len(page) < limit:
                return rows, False
            start += limit
        return rows, True

    def fields(self, kind: str) -> ModuleMeta:
        """The portal's fields, statuses, priorities and limits as Zoho lists them
        (GET /organizationFields?module=, Field.json getFields; desk-api.md §4.11), read
        once per command."""
        if kind not in DESK_KINDS:
            raise NotFound(f"unknown Desk collection {kind!r}")
        if kind not in self._fields:
            body = self.http.request("GET", "/organizationFields", params={"module": kind})
            self._fields[kind] = ModuleMeta(kind, KIND_LABELS[kind], False, tuple(
                self._field(raw) for raw in (body or {}).get("data", [])))
        return self._fields[kind]

    def _field(self, raw: dict[str, Any]) -> FieldMeta:
        name = str(raw.get("apiName") or "")
        kind = str(raw.get("type") or "Text")
        limit = raw.get("maxLength")
        lookup = ((raw.get("lookup") or {}).get("module") or {}).get("apiName")
        return FieldMeta(
            DEAL_LINK_FIELD if name == self.deal_field else name,
            str(raw.get("displayLabel") or name), FIELD_TYPES.get(kind, "text"),
            required=bool(raw.get("isMandatory")), custom=bool(raw.get("isCustomField")),
            read_only=kind == "AutoNumber",
            max_length=int(str(limit)) if str(limit or "").isdigit() else 255,
            choices=tuple(str(v["value"]) for v in raw.get("allowedValues") or []
                          if v and v.get("value") is not None),
            lookup=LOOKUPS.get(name) or (str(lookup) if lookup else None))

    def list_records(self, kind: str, modified_since: str | None = None) -> Iterator[Record]:
        """Oldest modification first, always through the search API: the list views
        (`GET /contacts`, `/accounts`, `/tickets`) answer no `modifiedTime`, `cf`, `title`,
        `city`, `description`... (getContacts/getAccounts/getTickets list schemas in
        Contact.json, Account.json, Ticket.json), the searches answer them all
        (searchContacts/searchAccounts/searchTickets in Search.json), in modifiedTime
        windows paged by offsets (desk_windows.py)."""
        self.fields(kind)
        # Zoho stamps whole seconds (time_step): a finer cursor reads from its second
        return windowed(kind, instant(modified_since).replace(microsecond=0)
                        if modified_since else EPOCH,
                        lambda low, start: self._search_window(kind, low, None, start),
                        LIMITS[kind], self.concurrency)

    def _search_window(self, kind: str, low: datetime, high: datetime | None,
                       start: int) -> tuple[list[tuple[datetime, Record]], int]:
        """One page of a modifiedTimeRange search: (instant, record) pairs and Desk's
        count of matches. The range format and its years 19xx-20xx are Search.json's
        pattern; `from` is 0-based on searches and capped at 4999 (desk-api.md §4.4)."""
        body = self.http.request("GET", f"/{kind}/search", params={
            "modifiedTimeRange": f"{desk_range(low)},{desk_range(high or END)}",
            "sortBy": "modifiedTime", "from": start, "limit": LIMITS[kind]}) or {}
        rows = [(instant(raw["modifiedTime"]), self._record(raw, kind))
                for raw in body.get("data", [])]
        return rows, int(body.get("count") or 0)

    def get_record(self, kind: str, record_id: str) -> Record:
        self.fields(kind)
        body = self.http.request("GET", f"/{kind}/{record_id}")
        if not body:
            raise NotFound(f"no Desk {kind[:-1]} with id {record_id}")
        return self._record(body, kind)

    def get_many(self, kind: str, ids: list[str]) -> list[Record]:
        """Contacts 20 per call (`GET /contacts/contactsByIds`, zoho-desk-oas Contact.json:
        "The maximum number of IDs allowed is 20"). Desk documents no by-ids read for
        accounts or tickets: those are read one per call, `concurrency` at a time."""
        self.fields(kind)
        wanted = sorted(set(ids))
        if kind == "contacts":
            found = []
            for start in range(0, len(wanted), BY_IDS):
                body = self.http.request("GET", "/contacts/contactsByIds", params={
                    "ids": ",".join(wanted[start:start + BY_IDS])})
                # the list shape (Contact.json listViewObject): fields it lacks (title,
                # city, cf...) are unknown, and so is its modified time
                found += [self._record(raw, kind) for raw in (body or {}).get("data", [])]
            return found

        def one(record_id: str) -> Record | None:
            try:
                return self.get_record(kind, record_id)
            except NotFound:
                return None

        with ThreadPoolExecutor(max(1, self.concurrency)) as pool:
            return [r for r in pool.map(one, wanted) if r is not None]

    def find_records(self, kind: str, field: str, values: list[str]) -> list[Record]:
        """Exact (case-insensitive) matches; fields Desk cannot filter on are searched
        with `_all` and the hits checked here."""
        self.fields(kind)
        param = field if field in SEARCH_FIELDS[kind] else "_all"
        found: dict[str, Record] = {}
        for value in sorted(set(values)):
            for raw in self._pages(f"/{kind}/search", LIMITS[kind], {param: value},
                                   search=True)[0]:
                record = self._record(raw, kind)
                if str(record.data.get(field, "")).lower() == value.lower():
                    found[record.id] = record
        return list(found.values())

    def _checked(self, kind: str, data: dict[str, Any], partial: bool) -> dict[str, Any]:
        """Refuse what Desk would refuse before sending it, by the portal's own fields."""
        ensure_valid(self.fields(kind), data, partial=partial)
        return self._body(data)

    def create_record(self, kind: str, data: dict[str, Any]) -> Record:
        body = self._checked(kind, {k: v for k, v in data.items() if v is not None}, False)
        return self._record(self.http.request("POST", f"/{kind}", json=body), kind)

    def update_record(self, kind: str, record_id: str, data: dict[str, Any]) -> Record:
        body = self._checked(kind, data, True)
        return self._record(self.http.request("PATCH", f"/{kind}/{record_id}", json=body),
                            kind)

    def delete_record(self, kind: str, record_id: str) -> None:
        self.fields(kind)
        self.http.request("POST", f"/{kind}/moveToTrash",
                          json={TRASH_KEYS[kind]: [record_id]})

    def deleted_records(self, kind: str, since: str | None = None) -> list[Tombstone]:
        """Records moved to Desk's recycle bin: `GET /recycleBin?module=<kind>` (Desk API
        "List deleted resources", scope Desk.settings.READ: `from`, `limit` up to 100,
        `sortBy=-deletedTime`; items `id`, `type`, `deletedTime`...; desk-api.md §4.7 and
        developers.qodex.ai/zoho-desk/zoho-desk-api/recycle-bin/list-deleted-resources).
        Newest first until older than ``since``; `from` is 1-based like Desk's other list
        views (desk-api.md §10), and pages overlap by one entry so a record restored
        meanwhile (which moves the rest up by one) costs no deletion. Desk keeps the bin
        60 days."""
        self.fields(kind)
        since = desk_time(since) if since else None  # its second, as the times compared
        stones: dict[str, str] = {}
        start = 1
        while True:
            body = self.http.request("GET", "/recycleBin", params={
                "module": kind, "sortBy": "-deletedTime", "from": start,
                "limit": RECYCLE_LIMIT}) or {}
            rows = body.get("data", [])
            older = False
            for raw in rows:
                if str(raw.get("type", kind)).lower() != kind:
                    continue
                when = desk_time(raw["deletedTime"])
                if since is not None and when < since:
                    older = True
                    break
                stones[str(raw["id"])] = when
            if older or len(rows) < RECYCLE_LIMIT:
                return sorted((Tombstone(i, t) for i, t in stones.items()),
                              key=lambda s: (s.deleted_time, s.id))
            start += RECYCLE_LIMIT - 1

    # agents and departments

    def agents(self) -> list[Agent]:
        agents = []
        for raw in self._pages("/agents", 200, {})[0]:
            role = {"Admin": "admin", "Light": "light-agent"}.get(
                raw.get("rolePermissionType", ""), "agent")
            status = "invited" if raw.get("isConfirmed") is False else (
                "active" if raw.get("status", "ACTIVE") == "ACTIVE" else "deactivated")
            agents.append(Agent(str(raw["id"]), str(raw.get("emailId", "")),
                                str(raw.get("name") or raw.get("lastName", "")), role, status))
        return agents

    def departments(self) -> list[dict[str, str]]:
        return [{"id": str(d["id"]), "name": str(d.get("name", ""))}
                for d in self._pages("/departments", 200, {})[0]]

    def invite_agent(self, email: str, name: str, role: str) -> Agent:
        if role not in ROLE_TYPES:
            raise ValidationError(f"unknown role {role!r} (roles: {', '.join(ROLE_TYPES)})")
        if any(a.email.lower() == email.lower() for a in self.agents()):
            raise RuleViolation(f"{email} is already an agent of this portal")
        first, _, last = name.rpartition(" ")
        body = self.http.request("POST", "/agents", json={
            "emailId": email, "lastName": last or email.split("@")[0],
            "firstName": first or None, "rolePermissionType": ROLE_TYPES[role],
            "associatedDepartmentIds": [d["id"] for d in self.departments()]})
        return Agent(str(body["id"]), email, name, role, "invited")

    def set_agent_role(self, email: str, role: str) -> Agent:
        if role not in ROLE_TYPES:
            raise ValidationError(f"unknown role {role!r} (roles: {', '.join(ROLE_TYPES)})")
        agent = next((a for a in self.agents() if a.email.lower() == email.lower()), None)
        if agent is None:
            raise NotFound(f"{email} is not an agent of this portal")
        self.http.request("PATCH", f"/agents/{agent.id}",
                          json={"rolePermissionType": ROLE_TYPES[role]})
        return Agent(agent.id, agent.email, agent.name, role, agent.status)

    # ticket activity

    def _sender(self, ticket_id: str, asked: str | None) -> str:
        """The From address of a reply or forward: Zoho sends only from an address configured
        for the ticket's department ("The from address in the email must be a from address
        configured in your help desk portal", Thread.json sendReply), listed by
        GET /mailReplyAddress?departmentId= (MailReplyAddress.json). `asked` (the profile's
        desk.from_address) must be one of them; else the department's first active one."""
        department = str(self.get_record("tickets", ticket_id).data.get("departmentId", ""))
        if department not in self._from_addresses:
            rows = self._pages("/mailReplyAddress", 100, {"departmentId": department,
                                                          "isActive": "true"})[0]
            self._from_addresses[department] = [str(r["address"]) for r in rows
                                                if r.get("address") and
                                                r.get("isActive", True) is not False]
        active = self._from_addresses[department]
        if asked:
            if asked.lower() not in (a.lower() for a in active):
                raise ValidationError(
                    f"{asked} (desk.from_address) is not an active From address of the "
                    f"ticket's department (its addresses: {', '.join(active) or 'none'})",
                    field="fromEmailAddress")
            return asked
        if not active:
            raise ValidationError(
                "the ticket's department has no active From address: add one in Zoho Desk "
                "(Setup > Channels > Email) or set desk.from_address",
                field="fromEmailAddress")
        return active[0]

    def ticket_events(self, ticket_id: str,
                      kinds: Collection[str] | None = None) -> list[TicketEvent]:
        events = []
        if any(wanted(k, kinds) for k in ("reply", "forward", "customer-reply")):
            for raw in self._pages(f"/tickets/{ticket_id}/threads", 200, {})[0]:
                if raw.get("direction") == "in":
                    kind = "customer-reply"
                else:
                    kind = "forward" if raw.get("isForward") else "reply"
                sender = str(raw.get("fromEmailAddress") or "")
                data: dict[str, Any] = {"content": raw.get("summary") or raw.get("content"),
                                        "to": _addresses(raw.get("to")),
                                        "cc": _addresses(raw.get("cc"))}
                if kind != "customer-reply":
                    data["from"] = sender
                events.append(TicketEvent(
                    str(raw["id"]), ticket_id, kind,
                    str((raw.get("author") or {}).get("email") or sender),
                    desk_time(raw.get("createdTime")), data))
        if wanted("comment", kinds) or wanted("customer-comment", kinds):
            for raw in self._pages(f"/tickets/{ticket_id}/comments", 100, {})[0]:
                commenter = raw.get("commenter") or {}
                kind = "comment" if commenter.get("type", "AGENT") == "AGENT" \
                    else "customer-comment"
                events.append(TicketEvent(
                    str(raw["id"]), ticket_id, kind,
                    str(commenter.get("email") or commenter.get("name", "")),
                    desk_time(raw.get("commentedTime")),
                    {"content": raw.get("content"), "public": raw.get("isPublic", True)}))
        if wanted("rating", kinds):
            events += read_ratings(self.http, ticket_id)
        if wanted("history", kinds):
            events += read_history(self.http, ticket_id)
        return sorted((e for e in events if wanted(e.kind, kinds)),
                      key=lambda e: e.created_time)

    def ratings(self) -> list[TicketEvent]:
        """One paged read of every department's ratings (not a call per ticket)."""
        return sorted(read_ratings(self.http), key=lambda e: e.created_time)

    def add_ticket_event(self, ticket_id: str, kind: str, author: str,
                         data: dict[str, Any]) -> TicketEvent:
        if kind in ("reply", "forward"):
            data = {**data, "from": self._sender(ticket_id, data.get("from"))}
            mail = {"channel": "EMAIL", "fromEmailAddress": data["from"],
                    "to": ",".join(data.get("to", [])), "content": data["content"],
                    "isForward": kind == "forward", "contentType": "plainText"}
            if data.get("cc"):
                mail["cc"] = ",".join(data["cc"])
            body = self.http.request("POST", f"/tickets/{ticket_id}/sendReply", json=mail)
        elif kind == "comment":
            body = self.http.request("POST", f"/tickets/{ticket_id}/comments", json={
                "content": data["content"], "isPublic": data.get("public", True),
                "contentType": "plainText"})
        elif kind == "attachment":
            path = Path(str(data.get("path", "")))
            with path.open("rb") as handle:
                body = self.http.request("POST", f"/tickets/{ticket_id}/attachments",
                                         params={"isPublic": "false"},
                                         files={"file": (data["name"], handle)})
        else:
            raise Unsupported(f"a {kind} is made by the customer in Zoho Desk; the API "
                              "cannot make one on their behalf")
        return TicketEvent(str((body or {}).get("id", "")), ticket_id, kind, author,
                           clock.now_iso(), data)


def _addresses(text: Any) -> list[str]:
    return [t.strip() for t in str(text or "").split(",") if t.strip()]
