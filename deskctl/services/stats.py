"""Support statistics for the portal or one CRM record: totals, overdue, average first
response and resolution times, customer ratings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.models.tickets import RATINGS, is_closed
from deskctl.services.ticket_queue import TicketQueue, is_overdue

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.state import StateStore

AGENT_ANSWERS = ("reply", "forward")


def seconds_between(start: str, end: str) -> float:
    return (clock.parse_time(end) - clock.parse_time(start)).total_seconds()


def readable(seconds: float | None) -> str | None:
    """3725 -> '1h 2m'; None stays None."""
    if seconds is None:
        return None
    minutes = int(round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m"]
    return " ".join(p for p in parts if p) if minutes else f"{int(seconds)}s"


def _average(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


class StatsService:
    def __init__(self, backend: Backend, state: StateStore) -> None:
        self.tickets = TicketQueue(backend, state)
        self.has_ratings = "ratings" in backend.capabilities

    def stats(self, module: str | None, record_id: str | None) -> dict[str, Any]:
        service = self.tickets
        tickets = service.tickets(module, record_id)
        now = clock.now_iso()
        first_responses, resolutions, ratings = [], [], []
        counts = dict.fromkeys(RATINGS, 0)
        # a ticket's latest rating counts: for the portal one read of all ratings, for one
        # record's few tickets the ratings of each
        portal_wide = self.has_ratings and module is None
        latest = {e.ticket_id: e for e in service.desk.ratings()} if portal_wide else {}
        kinds = AGENT_ANSWERS + (("rating",) if self.has_ratings and not portal_wide else ())
        for ticket in tickets:
            events = service.desk.ticket_events(ticket.id, kinds)
            latest.update((e.ticket_id, e) for e in events if e.kind == "rating")
            answer = next((e for e in events if e.kind in AGENT_ANSWERS), None)
            if answer is not None:
                first_responses.append(seconds_between(ticket.created_time,
                                                       answer.created_time))
            if is_closed(ticket.data) and ticket.data.get("closedTime"):
                resolutions.append(seconds_between(ticket.created_time,
                                                   ticket.data["closedTime"]))
            rating = latest.get(ticket.id)
            if rating is not None:
                counts[rating.data["rating"]] += 1
                ratings.append({"ticket": ticket.id, "number": ticket.data.get("ticketNumber"),
                                "subject": ticket.data.get("subject"),
                                "rating": rating.data["rating"]})
        first, resolution = _average(first_responses), _average(resolutions)
        return {
            "scope": f"{module}/{record_id}" if module else "portal",
            "total_tickets": len(tickets),
            "overdue_tickets": sum(1 for t in tickets if is_overdue(t, now)),
            "avg_first_response_seconds": first,
            "avg_first_response": readable(first),
            "avg_resolution_seconds": resolution,
            "avg_resolution": readable(resolution),
            "ratings": counts if self.has_ratings else None,
            "rated_tickets": ratings if self.has_ratings else None,
        }
