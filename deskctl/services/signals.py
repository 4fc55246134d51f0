"""SalesSignals: what leads, contacts and prospects did on their tickets, as signals of six
kinds; `watch` delivers each one once across runs.

Delivery is at-least-once: a signal is marked delivered only after the consumer took it
(the CLI printed and flushed its line), so a crash in between prints it again next time,
and never loses it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.models.integration import SIGNAL_KINDS
from deskctl.models.records import Record
from deskctl.models.tickets import TicketEvent, is_closed, is_escalation
from deskctl.services.ticket_queue import TicketQueue

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.state import StateStore

EVENT_SIGNALS = {"customer-reply": "new-reply", "customer-comment": "new-comment",
                 "rating": "new-rating"}
OPEN_STAGES_EXCLUDE = ("Closed Won", "Closed Lost")


def kinds_of(signals: set[str]) -> set[str]:
    """The ticket event kinds the enabled signals are made of (the rest is not read)."""
    kinds = {k for k, s in EVENT_SIGNALS.items() if s in signals}
    return kinds | ({"history"} if "ticket-escalated" in signals else set())


class SignalService:
    def __init__(self, backend: Backend, state: StateStore) -> None:
        self.backend = backend
        self.state = state
        self.tickets = TicketQueue(backend, state)

    def _people(self) -> dict[str, dict[str, Any]]:
        """CRM leads and contacts by lowercase email; contacts with an open deal are
        prospects."""
        crm = self.backend.crm
        open_deal_contacts = {d.data.get("Contact_Name") for d in crm.list_records("Deals")
                              if d.data.get("Stage") not in OPEN_STAGES_EXCLUDE}
        people: dict[str, dict[str, Any]] = {}
        for module in ("Leads", "Contacts"):
            for record in crm.list_records(module):
                email = (record.data.get("Email") or "").lower()
                if not email:
                    continue
                role = "lead" if module == "Leads" else (
                    "prospect" if record.id in open_deal_contacts else "contact")
                name = " ".join(filter(None, [record.data.get("First_Name"),
                                              record.data.get("Last_Name")]))
                people.setdefault(email, {"module": module, "id": record.id, "name": name,
                                          "email": email, "as": role})
        return people

    def _signals_of(self, ticket: Record, events: list[TicketEvent], person: dict[str, Any],
                    now: str) -> list[dict[str, Any]]:
        def signal(kind: str, signal_id: str, time: str, detail: str) -> dict[str, Any]:
            return {"id": signal_id, "kind": kind, "time": time,
                    "ticket": {"id": ticket.id, "number": ticket.data.get("ticketNumber"),
                               "subject": ticket.data.get("subject")},
                    "from": person, "detail": detail}

        found = [signal("new-ticket", f"new-ticket:{ticket.id}", ticket.created_time,
                        str(ticket.data.get("subject")))]
        for event in events:
            if event.kind in EVENT_SIGNALS:
                detail = event.data.get("rating") or str(event.data.get("content", ""))[:120]
                found.append(signal(EVENT_SIGNALS[event.kind], f"{event.kind}:{event.id}",
                                    event.created_time, detail))
            elif is_escalation(event):
                found.append(signal("ticket-escalated", f"escalated:{event.id}",
                                    event.created_time, f"escalated by {event.author}"))
        due = ticket.data.get("dueDate")
        if due and due < now and not is_closed(ticket.data):
            found.append(signal("ticket-overdue", f"overdue:{ticket.id}:{due}", due,
                                f"due {due}"))
        return found

    def collect(self, since: str | None = None, module: str | None = None,
                record_id: str | None = None) -> list[dict[str, Any]]:
        """Signals of enabled kinds, oldest first."""
        enabled = {k for k in SIGNAL_KINDS if self.tickets.current.signals.get(k, True)}
        since_iso = clock.iso_second(clock.parse_time(since)) if since else None
        people = self._people()
        contacts = self.tickets.contacts
        now = clock.now_iso()
        found: list[dict[str, Any]] = []
        desk = self.tickets.desk
        kinds = kinds_of(enabled)
        ratings: dict[str, list[TicketEvent]] = {}
        if "rating" in kinds and module is None:
            kinds -= {"rating"}  # the portal's ratings in one read, not one per ticket
            for rating in desk.ratings():
                ratings.setdefault(rating.ticket_id, []).append(rating)
        for ticket in self.tickets.tickets(module, record_id):
            contact = contacts.get(ticket.data.get("contactId", ""))
            person = people.get((contact.data.get("email") or "").lower()) if contact else None
            if person is None:
                continue  # not a lead, contact or prospect of this CRM
            events = desk.ticket_events(ticket.id, kinds) + ratings.get(ticket.id, [])
            found += [s for s in self._signals_of(ticket, events, person, now)
                      if s["kind"] in enabled and (since_iso is None or s["time"] >= since_iso)]
        found.sort(key=lambda s: (s["time"], s["id"]))
        return found

    def recent(self, since: str | None, module: str | None,
             record_id: str | None) -> list[dict[str, Any]]:
        return list(reversed(self.collect(since, module, record_id)))

    def watch(self) -> Iterator[dict[str, Any]]:
        """New signals, oldest first; each is marked delivered once the consumer resumes
        the iterator (after it printed the signal)."""
        seen = self.state.seen_signals()
        for signal in self.collect():
            if signal["id"] in seen:
                continue
            yield signal
            self.state.mark_signal_seen(signal["id"])

    def follow(self, interval: float) -> Iterator[dict[str, Any]]:
        """``watch`` again every ``interval`` seconds, for as long as the consumer takes
        signals. Each round reads afresh (settings, people and tickets may have changed)."""
        while True:
            yield from SignalService(self.backend, self.state).watch()
            time.sleep(interval)
