"""Reading tickets from the CRM: who is acting in which Desk role, a record's tickets,
the queue (views and sorts) and one ticket with its conversation. Changes: tickets.py."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.errors import NotFound, RuleViolation, Unsupported, UsageError, ValidationError
from deskctl.models.people import Agent, CrmUser
from deskctl.models.permissions import NO_DESK, check
from deskctl.models.records import Record
from deskctl.models.tickets import DEAL_LINK_FIELD, history_rows, is_closed
from deskctl.services.access import integration
from deskctl.services.relations import TicketRelations, deal_ids
from deskctl.state.sync import SyncStore

if TYPE_CHECKING:
    from deskctl.backends.base import Backend, DeskApi
    from deskctl.state import StateStore

VIEWS = ("all", "overdue", "closed", "forwarded", "high-priority")
SORTS = ("created", "due", "priority", "deal-amount")
PRIORITY_RANK = {"Urgent": 0, "High": 1, "Medium": 2, "Low": 3}


def is_overdue(ticket: Record, now: str) -> bool:
    due = ticket.data.get("dueDate")
    return bool(due) and not is_closed(ticket.data) and str(due) < now


def parse_due(text: str) -> str:
    """YYYY-MM-DD (end of that day, UTC) or an ISO 8601 time, as Zoho's UTC form."""
    with suppress(ValueError):
        return f"{date.fromisoformat(text).isoformat()}T23:59:59Z"
    try:
        return clock.iso_second(clock.parse_time(text))
    except Exception:
        raise ValidationError(f"invalid due date {text!r} (YYYY-MM-DD or ISO 8601)") from None


def check_scope(module: str | None, record_id: str | None) -> None:
    """One CRM record is named by both --module and --record, or neither is given."""
    if module is not None and record_id is None:
        raise UsageError("--module needs --record (the id of one record of that module)")
    if record_id is not None and module is None:
        raise UsageError("--record needs --module (the CRM module the record belongs to)")


@dataclass(frozen=True)
class Actor:
    user: CrmUser
    role: str  # a Desk role, or NO_DESK


class TicketQueue:
    def __init__(self, backend: Backend, state: StateStore) -> None:
        self.backend = backend
        self.state = state
        self.current = integration(state).require_active()

    @cached_property
    def desk(self) -> DeskApi:
        return self.backend.desk(str(self.current.portal_id))

    @cached_property
    def agents(self) -> list[Agent]:
        return self.desk.agents()

    @cached_property
    def actor(self) -> Actor:
        user = self.backend.crm.current_user()
        agent = next((a for a in self.agents if a.email.lower() == user.email.lower()
                      and a.status == "active"), None)
        return Actor(user, agent.role if agent else NO_DESK)

    def allow(self, action: str) -> Actor:
        check(self.actor.role, action, self.actor.user.email)
        return self.actor

    @cached_property
    def relations(self) -> TicketRelations:
        return TicketRelations(self.backend.crm, self.desk,
                               {m: SyncStore(self.state).pair_map(m)
                                for m in ("Contacts", "Accounts")})

    def _record(self, module: str, record_id: str) -> tuple[str, Record]:
        meta = self.backend.crm.module(module)
        if meta.api_name not in self.current.related_lists:
            raise RuleViolation(f"{meta.api_name} does not show tickets: enable it with "
                                f"'deskctl related-list enable {meta.api_name}'")
        return meta.api_name, self.backend.crm.get_record(meta.api_name, record_id)

    def ticket(self, ticket_id: str) -> Record:
        return self.desk.get_record("tickets", ticket_id)

    def _audit(self, action: str, target: str, details: dict[str, Any] | None = None) -> None:
        self.state.audit(self.actor.user.email, f"ticket.{action}", target, details)

    # reading

    def tickets(self, module: str | None, record_id: str | None) -> list[Record]:
        """The portal's tickets, or one record's (its module must show tickets)."""
        check_scope(module, record_id)
        if module is None or record_id is None:
            return list(self.desk.list_records("tickets"))
        name, record = self._record(module, record_id)
        return self.relations.tickets_for(name, record)

    def queue(self, module: str | None, record_id: str | None, view: str, sort: str,
             limit: int | None) -> list[dict[str, Any]]:
        self.allow("view")
        now = clock.now_iso()
        tickets = self.tickets(module, record_id)
        if view == "overdue":
            tickets = [t for t in tickets if is_overdue(t, now)]
        elif view == "closed":
            tickets = [t for t in tickets if is_closed(t.data)]
        elif view == "high-priority":
            tickets = [t for t in tickets if t.data.get("priority") in ("High", "Urgent")]
        elif view == "forwarded":
            tickets = [t for t in tickets if self.desk.ticket_events(t.id, ("forward",))]
        rows = [self._row(t, now) for t in tickets]
        keys = {
            "created": lambda r: r["_created"],
            "due": lambda r: (r["due"] is None, r["due"] or ""),
            "priority": lambda r: PRIORITY_RANK.get(r["priority"], 9),
            "deal-amount": lambda r: -(r["deal"]["amount"] if r["deal"] else -1),
        }
        rows.sort(key=keys[sort], reverse=sort == "created")
        for row in rows:
            del row["_created"]
        return rows[:limit] if limit else rows

    @cached_property
    def contacts(self) -> dict[str, Record]:
        """The portal's Desk contacts by id, read once per command."""
        return {c.id: c for c in self.relations.desk_contacts_list}

    def _deal(self, deal_id: str) -> dict[str, Any] | None:
        try:
            deal = self.backend.crm.get_record("Deals", deal_id)
        except NotFound:
            return None
        return {"id": deal.id, "name": deal.data.get("Deal_Name"),
                "stage": deal.data.get("Stage"), "amount": deal.data.get("Amount")}

    def _row(self, ticket: Record, now: str) -> dict[str, Any]:
        data = ticket.data
        owner = next((a for a in self.agents if a.id == data.get("assigneeId")), None)
        contact = self.contacts.get(data.get("contactId", ""))
        deals = [d for d in (self._deal(i) for i in deal_ids(ticket)) if d]
        top = max(deals, key=lambda d: d["amount"] or 0) if deals else None
        name = " ".join(filter(None, [contact.data.get("firstName"),
                                      contact.data.get("lastName")])) if contact else None
        return {"id": ticket.id, "number": data.get("ticketNumber"),
                "subject": data.get("subject"), "status": data.get("status"),
                "priority": data.get("priority"), "due": data.get("dueDate"),
                "overdue": is_overdue(ticket, now),
                "owner": owner.email if owner else None,
                "contact": (f"{name} <{contact.data.get('email')}>" if contact and
                            contact.data.get("email") else name),
                "deal": top, "deals": len(deals), "_created": ticket.created_time}

    def show(self, ticket_id: str) -> dict[str, Any]:
        self.allow("view")
        ticket = self.ticket(ticket_id)
        row = self._row(ticket, clock.now_iso())
        del row["_created"]
        events = self.desk.ticket_events(ticket_id)
        return {**row, "description": ticket.data.get("description"),
                "created": ticket.created_time, "modified": ticket.modified_time,
                "fields": {k: v for k, v in ticket.data.items() if k != DEAL_LINK_FIELD},
                "deals": [d for d in (self._deal(i) for i in deal_ids(ticket)) if d],
                "conversation": [e.to_dict() for e in events if e.kind != "history"],
                "history": [e.to_dict() for e in events if e.kind == "history"]}

    def history(self, ticket_id: str) -> list[dict[str, Any]]:
        """A ticket's field history, oldest first: one row per changed field."""
        self.allow("view")
        if "ticket-history" not in self.backend.capabilities:
            raise Unsupported(f"the {self.backend.name} backend cannot read ticket history")
        self.ticket(ticket_id)
        return history_rows(self.desk.ticket_events(ticket_id, ("history",)))
