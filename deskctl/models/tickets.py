"""Ticket activity: threads (replies, forwards, customer replies), comments, attachments,
ratings and history entries, all as one event type in time order."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal, cast

EVENT_KINDS = ("reply", "forward", "customer-reply", "comment", "customer-comment",
               "attachment", "rating", "history")
RATINGS = ("good", "okay", "bad")
CONVERSATION = ("reply", "forward", "customer-reply", "comment", "customer-comment",
                "attachment")
#: the ticket field holding linked CRM deal ids (comma-separated); on Zoho a custom field
DEAL_LINK_FIELD = "cf_deal_ids"

StatusType = Literal["Open", "On Hold", "Closed"]
STATUS_TYPES: tuple[StatusType, ...] = ("Open", "On Hold", "Closed")
#: the statusType of Desk's default statuses (desk-api.md §4.11: "statusType is one of Open,
#: On Hold, Closed (custom statuses map to these)")
DEFAULT_STATUS_TYPES: dict[str, StatusType] = {"Open": "Open", "On Hold": "On Hold",
                                               "Escalated": "Open", "Closed": "Closed"}


def status_type(ticket: dict[str, Any]) -> StatusType:
    """Whether a ticket is open, on hold or closed. Zoho Desk answers it as ``statusType``
    with every ticket (zoho-desk-oas Ticket.json commonResponse and listviewCommonJson,
    Search.json searchTicketResponseFields); a portal's own status ("Resolved", say) may be
    of type Closed, so its name decides nothing. Without statusType (the sandbox keeps only
    the default statuses), the default status's type."""
    given = ticket.get("statusType")
    if given in STATUS_TYPES:
        return cast(StatusType, given)
    return DEFAULT_STATUS_TYPES.get(str(ticket.get("status")), "Open")


def is_closed(ticket: dict[str, Any]) -> bool:
    return status_type(ticket) == "Closed"


@dataclass(frozen=True)
class TicketEvent:
    id: str
    ticket_id: str
    kind: str
    author: str
    created_time: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ticket_id": self.ticket_id, "kind": self.kind,
                "author": self.author, "created_time": self.created_time, **self.data}


def wanted(kind: str, kinds: Collection[str] | None) -> bool:
    """Whether an event kind was asked for (None: every kind)."""
    return kinds is None or kind in kinds


def is_escalation(event: TicketEvent) -> bool:
    """A history entry that escalated the ticket: Zoho's TicketEscalated event, the
    "Is Escalated" flag turned on, or the status set to Escalated (the sandbox's way)."""
    if event.kind != "history":
        return False
    if event.data.get("action") == "TicketEscalated":
        return True
    changes = event.data.get("changes") or {}
    status = (changes.get("status") or [None, None])[1]
    flag = (changes.get("isEscalated") or [None, None])[1]
    return status == "Escalated" or flag in (True, "true")


def history_rows(events: list[TicketEvent]) -> list[dict[str, Any]]:
    """History entries as rows: one per changed field (an entry without changes: one row)."""
    rows = []
    for event in events:
        if event.kind != "history":
            continue
        base = {"time": event.created_time, "event": event.data.get("action"),
                "by": event.author}
        changes = event.data.get("changes") or {}
        if not changes:
            rows.append({**base, "field": None, "old": None, "new": None})
        for name, (old, new) in changes.items():
            rows.append({**base, "field": name, "old": old, "new": new})
    return rows
