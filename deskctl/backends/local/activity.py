"""The sandbox's ticket history and ratings in the shapes of Zoho Desk's
`GET /api/v1/tickets/{id}/History` and `GET /api/v1/customerHappiness` (sources:
deskctl/backends/zoho/activity.py). Escalation in the sandbox is the status Escalated, so
an update to it reads as Zoho's TicketUpdated with the Status change, and the flag
"Is Escalated" turned on."""

from __future__ import annotations

from typing import Any

from deskctl.backends.local.desk import LocalDesk
from deskctl.errors import ValidationError
from deskctl.models.tickets import TicketEvent

LABELS = {"status": "Status", "priority": "Priority", "assigneeId": "Case Owner",
          "dueDate": "Due Date", "subject": "Subject"}
RATING_VALUES = {"good": "GOOD", "okay": "OK", "bad": "BAD"}


def _desk_time(iso: str) -> str:
    return iso.replace("Z", ".000Z") if iso and "." not in iso else iso


def _page(query: dict[str, str], maximum: int) -> tuple[int, int]:
    """Zoho's from (0-based) and limit, checked as Zoho checks them."""
    try:
        start, limit = int(query.get("from", 0)), int(query.get("limit", 10))
    except ValueError:
        raise ValidationError("from and limit must be numbers") from None
    if not 0 <= start <= 4999:
        raise ValidationError("The value passed for field 'from' exceeds the range of "
                              "'0-4999'.")
    if not 1 <= limit <= maximum:
        raise ValidationError(f"The value passed for field 'limit' exceeds the range of "
                              f"'1-{maximum}'.")
    return start, limit


def _property(field: str, value: Any, desk: LocalDesk) -> Any:
    if field == "assigneeId" and value:
        agent = next((a for a in desk.agents() if a.id == value), None)
        return {"id": value, "name": agent.name if agent else None, "type": "Agent"}
    return value


def _entry(event: TicketEvent, desk: LocalDesk) -> dict[str, Any]:
    created = event.data.get("action") == "created"
    info = []
    for field, (old, new) in (event.data.get("changes") or {}).items():
        label = LABELS.get(field, field)
        kind = "Entity" if field == "assigneeId" else "Text"
        value = _property(field, new, desk) if created else {
            "updatedValue": _property(field, new, desk),
            "previousValue": _property(field, old, desk)}
        info.append({"propertyName": label, "propertyType": kind, "systemProperty": True,
                     "propertyValue": value})
        if field == "status" and not created and new == "Escalated" and old != "Escalated":
            info.append({"propertyName": "Is Escalated", "propertyType": "Boolean",
                         "systemProperty": True,
                         "propertyValue": {"updatedValue": True, "previousValue": False}})
    return {"eventName": "TicketCreated" if created else "TicketUpdated",
            "eventTime": _desk_time(event.created_time),
            "actor": {"id": None, "name": event.author, "type": "System"},
            "source": None, "eventInfo": info}


def history(desk: LocalDesk, ticket_id: str, query: dict[str, str]) -> list[dict[str, Any]]:
    """One page of a ticket's history, newest first (204 when empty: the caller)."""
    start, limit = _page(query, 50)
    events = [e for e in reversed(desk.ticket_events(ticket_id, ("history",)))]
    return [_entry(e, desk) for e in events[start:start + limit]]


def happiness(desk: LocalDesk, query: dict[str, str]) -> list[dict[str, Any]]:
    """One page of the portal's ratings (or a ticket's), oldest first by ratedTime."""
    if not query.get("department"):
        raise ValidationError("Mandatory param department is missing (a department id or "
                              "allDepartment)")
    start, limit = _page(query, 50)
    ratings = desk.ratings()
    if query.get("ticketId"):
        ratings = [r for r in ratings if r.ticket_id == query["ticketId"]]
    if query.get("sortBy") == "-ratedTime":
        ratings.reverse()
    rows = []
    for event in ratings[start:start + limit]:
        ticket = desk.db.record(desk.portal_id, "tickets", event.ticket_id)
        data = ticket.data if ticket else {}
        rows.append({"id": event.id, "rating": RATING_VALUES[event.data["rating"]],
                     "ratedTime": _desk_time(event.created_time),
                     "feedback": event.data.get("feedback"), "ticketId": event.ticket_id,
                     "contactId": data.get("contactId"), "agentId": data.get("assigneeId"),
                     "departmentId": data.get("departmentId")})
    return rows
