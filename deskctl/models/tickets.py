"""Ticket activity: threads (replies, forwards, customer replies), comments, attachments,
ratings and history entries, all as one event type in time order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EVENT_KINDS = ("reply", "forward", "customer-reply", "comment", "customer-comment",
               "attachment", "rating", "history")
RATINGS = ("good", "okay", "bad")
#: the ticket field holding linked CRM deal ids (comma-separated); on Zoho a custom field
DEAL_LINK_FIELD = "cf_deal_ids"


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
