"""The simulated Zoho Desk of one portal: agents, departments, contacts, accounts, tickets
with their threads, comments, attachments, ratings and history."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from deskctl import clock
from deskctl.backends.base import DESK_KINDS, DeskApi
from deskctl.backends.desk_fields import DESK_KINDS_META
from deskctl.backends.local.db import MICROSECOND, SandboxDb
from deskctl.errors import NotFound, RuleViolation, ValidationError
from deskctl.models.people import ROLES, Agent
from deskctl.models.records import ModuleMeta, Record, Tombstone, ensure_valid
from deskctl.models.tickets import EVENT_KINDS, RATINGS, TicketEvent, wanted

HISTORY_FIELDS = ("status", "priority", "assigneeId", "dueDate", "subject")


def _event(row: Any) -> TicketEvent:
    return TicketEvent(row["id"], row["ticket_id"], row["kind"], row["author"],
                       row["created_time"], json.loads(row["data"]))


class LocalDesk(DeskApi):
    concurrency = 1  # one SQLite connection: writes are serial
    #: a batch is one sandbox transaction (write_session), so its size is not a round of
    #: calls but the CRM's 100 per call; fewer batches, fewer state transactions
    write_batch = 100

    def __init__(self, db: SandboxDb, portal_id: str, fine: bool = True) -> None:
        """``fine``: as LocalCrm's."""
        super().__init__(portal_id)
        self.db = db
        self.fine = fine
        self.time_step: timedelta = MICROSECOND if fine else DeskApi.time_step
        self.clock_skew: timedelta = timedelta(0) if fine else DeskApi.clock_skew
        if not db.conn.execute("SELECT 1 FROM portals WHERE id = ?", (portal_id,)).fetchone():
            raise NotFound(f"no Desk portal with id {portal_id}")

    # agents

    def agents(self) -> list[Agent]:
        rows = self.db.conn.execute("SELECT * FROM agents WHERE portal_id = ? ORDER BY rowid",
                                    (self.portal_id,)).fetchall()
        return [Agent(r["id"], r["email"], r["name"], r["role"], r["status"]) for r in rows]

    def agent(self, email: str) -> Agent | None:
        return next((a for a in self.agents() if a.email.lower() == email.lower()), None)

    def _check_role(self, role: str) -> None:
        if role not in ROLES:
            raise ValidationError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")

    def invite_agent(self, email: str, name: str, role: str) -> Agent:
        self._check_role(role)
        if self.agent(email) is not None:
            raise RuleViolation(f"{email} is already an agent of this portal")
        portal = self.db.conn.execute("SELECT name FROM portals WHERE id = ?",
                                      (self.portal_id,)).fetchone()["name"]
        with self.db.transaction() as conn:
            agent_id = self.db.new_id("desk")
            conn.execute("INSERT INTO agents (id, portal_id, email, name, role, status, "
                         "invited_time) VALUES (?, ?, ?, ?, ?, 'invited', ?)",
                         (agent_id, self.portal_id, email, name, role, clock.now_iso()))
            self.send_mail(email, f"You are invited to the {portal} help desk",
                           f"Hello {name}, you have been invited to {portal} as {role}. "
                           "Accept the invitation to activate your Desk account.")
        return Agent(agent_id, email, name, role, "invited")

    def set_agent_role(self, email: str, role: str) -> Agent:
        self._check_role(role)
        agent = self.agent(email)
        if agent is None:
            raise NotFound(f"{email} is not an agent of this portal")
        with self.db.transaction() as conn:
            conn.execute("UPDATE agents SET role = ? WHERE id = ?", (role, agent.id))
        return Agent(agent.id, agent.email, agent.name, role, agent.status)

    def activate_agent(self, agent_id: str) -> None:
        """The invitee accepted (sandbox only; in Zoho the invitee does this by mail)."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE agents SET status = 'active', activated_time = ? WHERE id = ?",
                         (clock.now_iso(), agent_id))

    def send_mail(self, to: str, subject: str, body: str, cc: str = "",
                  sender: str | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO outbox (sent_time, portal_id, from_email, to_email, cc, "
                         "subject, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (clock.now_iso(), self.portal_id, sender, to, cc, subject, body))

    def from_addresses(self, department_id: str) -> list[dict[str, Any]]:
        """The department's From addresses, oldest (its default) first."""
        rows = self.db.conn.execute(
            "SELECT f.* FROM from_addresses f JOIN departments d ON d.id = f.department_id "
            "WHERE d.portal_id = ? AND f.department_id = ? ORDER BY f.created_time, f.id",
            (self.portal_id, department_id)).fetchall()
        return [dict(r) for r in rows]

    def _sender(self, ticket: Record, wanted: str | None) -> str:
        """The From address of a reply: the one asked for if the ticket's department has it
        (Zoho refuses any other, Thread.json sendReply), else the department's first."""
        department = str(ticket.data.get("departmentId", ""))
        active = [f["address"] for f in self.from_addresses(department) if f["is_active"]]
        if wanted:
            if wanted.lower() not in (a.lower() for a in active):
                raise ValidationError(
                    f"{wanted} is not a From address of the ticket's department (its "
                    f"addresses: {', '.join(active) or 'none'})", field="fromEmailAddress")
            return wanted
        if not active:
            raise ValidationError("the ticket's department has no active From address",
                                  field="fromEmailAddress")
        return str(active[0])

    def departments(self) -> list[dict[str, str]]:
        rows = self.db.conn.execute("SELECT id, name FROM departments WHERE portal_id = ? "
                                    "ORDER BY rowid", (self.portal_id,)).fetchall()
        return [{"id": r["id"], "name": r["name"]} for r in rows]

    # records

    def fields(self, kind: str) -> ModuleMeta:
        if kind not in DESK_KINDS:
            raise NotFound(f"unknown Desk collection {kind!r} (collections: "
                           f"{', '.join(DESK_KINDS)})")
        return DESK_KINDS_META[kind]

    def list_records(self, kind: str, modified_since: str | None = None) -> Iterator[Record]:
        self.fields(kind)
        return self.db.records(self.portal_id, kind, modified_since, fine=self.fine)

    def write_session(self) -> AbstractContextManager[Any]:
        """One sandbox transaction for a batch: a commit per batch, not per record."""
        return self.db.transaction()

    def get_record(self, kind: str, record_id: str) -> Record:
        self.fields(kind)
        record = self.db.record(self.portal_id, kind, record_id, self.fine)
        if record is None:
            raise NotFound(f"no Desk {kind[:-1]} with id {record_id}")
        return record

    def get_many(self, kind: str, ids: list[str]) -> list[Record]:
        self.fields(kind)
        return self.db.many(self.portal_id, kind, ids, self.fine)

    def find_records(self, kind: str, field: str, values: list[str]) -> list[Record]:
        self.fields(kind)
        return self.db.find(self.portal_id, kind, field, values, self.fine)

    def _lookup_exists(self, target: str, value: str) -> bool:
        if target == "departments":
            return any(d["id"] == value for d in self.departments())
        if target == "agents":
            return any(a.id == value and a.status == "active" for a in self.agents())
        return self.db.exists(self.portal_id, target, value)

    def _validate(self, kind: str, data: dict[str, Any], partial: bool) -> None:
        ensure_valid(self.fields(kind), data, partial=partial, exists=self._lookup_exists)

    def create_record(self, kind: str, data: dict[str, Any]) -> Record:
        clean = {k: v for k, v in data.items() if v is not None}
        self._validate(kind, clean, partial=False)
        with self.db.transaction():
            if kind == "tickets":
                number = int(self.db.meta(f"ticket_number:{self.portal_id}", 100)) + 1
                self.db.set_meta(f"ticket_number:{self.portal_id}", number)
                clean = {"ticketNumber": str(number), "status": "Open", "priority": "Medium",
                         "channel": "Web", **clean}
                if clean["status"] == "Closed":
                    clean["closedTime"] = clock.now_iso()
            record = self.db.insert(self.portal_id, kind, clean, fine=self.fine)
            if kind == "tickets":
                self._history(record.id, "created", {f: [None, clean[f]] for f in HISTORY_FIELDS
                                                     if clean.get(f) is not None})
        return record

    def update_record(self, kind: str, record_id: str, data: dict[str, Any]) -> Record:
        record = self.get_record(kind, record_id)
        self._validate(kind, data, partial=True)  # None blanks a field: not a required one
        merged = {k: v for k, v in {**record.data, **data}.items() if v is not None}
        with self.db.transaction():
            if kind == "tickets":
                if merged.get("status") == "Closed" and record.data.get("status") != "Closed":
                    merged["closedTime"] = clock.now_iso()
                elif merged.get("status") != "Closed":
                    merged.pop("closedTime", None)
                changes = {f: [record.data.get(f), merged.get(f)] for f in HISTORY_FIELDS
                           if record.data.get(f) != merged.get(f)}
                if changes:
                    self._history(record_id, "updated", changes)
            return self.db.replace(self.portal_id, kind, record, merged, self.fine)

    def delete_record(self, kind: str, record_id: str) -> None:
        self.get_record(kind, record_id)
        with self.db.transaction() as conn:
            self.db.remove(self.portal_id, kind, record_id)
            if kind == "accounts":
                # Desk's recycle bin restores an account's "lookup relationships that have
                # not been replaced" (https://help.zoho.com/portal/en/kb/desk/for-
                # administrators/data-administration/articles/using-the-recycle-bin): the
                # trash removes the account from its contacts, which stay. Whether their
                # modifiedTime moves is not documented (nor in zoho-desk-oas Account.json
                # deleteAccount; desk-api.md §5.2): it does not here, so a sync cannot count
                # on reading the change (docs/deletions.md)
                conn.execute(
                    "UPDATE records SET data = json_remove(data, '$.accountId') WHERE scope = ? "
                    "AND kind = 'contacts' AND json_extract(data, '$.accountId') = ?",
                    (self.portal_id, record_id))

    def deleted_records(self, kind: str, since: str | None = None) -> list[Tombstone]:
        self.fields(kind)
        return [Tombstone(i, t) for i, t in self.db.tombstones(self.portal_id, kind, since)]

    # ticket activity

    def ticket_events(self, ticket_id: str,
                      kinds: Collection[str] | None = None) -> list[TicketEvent]:
        self.get_record("tickets", ticket_id)
        rows = self.db.conn.execute("SELECT * FROM ticket_events WHERE ticket_id = ? "
                                    "ORDER BY seq", (ticket_id,)).fetchall()
        return [_event(r) for r in rows if wanted(r["kind"], kinds)]

    def ratings(self) -> list[TicketEvent]:
        rows = self.db.conn.execute(
            "SELECT e.* FROM ticket_events e JOIN records r ON r.scope = ? AND "
            "r.kind = 'tickets' AND r.id = e.ticket_id WHERE e.kind = 'rating' ORDER BY e.seq",
            (self.portal_id,)).fetchall()
        return [_event(r) for r in rows]

    def _insert_event(self, ticket_id: str, kind: str, author: str,
                      data: dict[str, Any]) -> TicketEvent:
        with self.db.transaction() as conn:
            event_id = self.db.new_id("desk")
            now = clock.now_iso()
            conn.execute("INSERT INTO ticket_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (event_id, ticket_id, kind, author, json.dumps(data), now,
                          self.db.next_seq()))
        return TicketEvent(event_id, ticket_id, kind, author, now, data)

    def _history(self, ticket_id: str, action: str, changes: dict[str, Any]) -> None:
        self._insert_event(ticket_id, "history", "system", {"action": action,
                                                            "changes": changes})

    def add_ticket_event(self, ticket_id: str, kind: str, author: str,
                         data: dict[str, Any]) -> TicketEvent:
        if kind not in EVENT_KINDS or kind == "history":
            raise ValidationError(f"unknown ticket activity {kind!r}")
        ticket = self.get_record("tickets", ticket_id)
        data = {k: v for k, v in data.items() if k != "path"}  # the file stays where it is
        if kind == "rating" and data.get("rating") not in RATINGS:
            raise ValidationError(f"rating must be one of {', '.join(RATINGS)}")
        if kind != "attachment" and kind != "rating" and not str(data.get("content", "")).strip():
            raise ValidationError("the text is empty")
        if kind in ("reply", "forward"):
            data = {**data, "from": self._sender(ticket, data.get("from"))}
        with self.db.transaction():
            event = self._insert_event(ticket_id, kind, author, data)
            if kind in ("reply", "forward") and data.get("to"):
                self.send_mail(", ".join(data.get("to", [])),
                               f"[#{ticket.data.get('ticketNumber')}] "
                               f"{ticket.data.get('subject')}", data["content"],
                               ", ".join(data.get("cc", [])), data["from"])
            # activity counts as a modification of the ticket, as in Zoho
            self.db.replace(self.portal_id, "tickets", ticket, ticket.data)
        return event
