"""What Zoho Desk says happened on tickets, as deskctl's ticket events: the field history
(`GET /api/v1/tickets/{id}/History`) and customers' ratings (`GET /api/v1/customerHappiness`).

Sources: https://desk.zoho.com/DeskAPIDocument (Tickets History, Customer Happiness), the
help articles "Get Ticket History API explained" and "Events supported in the Get Ticket
History API" (help.zoho.com, Desk developer space), and the event schema in zohodesk-oas
v1.0/TicketHistory.json (singleCaseHistoryRespns: eventName enum incl. TicketEscalated,
actor, source, eventInfo[{propertyName, propertyType, propertyValue, systemProperty}]).
History is newest first, `from` 0-based, `limit` 1-50; an updated property's value is
{"updatedValue", "previousValue"}; an entity's value is {"id", "name", "type"}. Ratings:
`department` is mandatory (allDepartment for all), `from`/`limit` page them, values are
GOOD, OK and BAD, `ratedTime` ISO.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.errors import BackendError
from deskctl.models.tickets import TicketEvent

if TYPE_CHECKING:
    from deskctl.backends.zoho.http import ZohoHttp

HISTORY_LIMIT = 50
RATINGS_LIMIT = 50
MAX_FROM = 4999
#: Desk's display names of ticket properties -> deskctl's (API) field names
PROPERTIES = {"Status": "status", "Priority": "priority", "Case Owner": "assigneeId",
              "Due Date": "dueDate", "Subject": "subject", "Is Escalated": "isEscalated",
              "Department": "departmentId", "Channel": "channel"}
LABELS = {v: k for k, v in PROPERTIES.items()}
RATING_VALUES = {"GOOD": "good", "OK": "okay", "OKAY": "okay", "BAD": "bad"}


def _time(text: Any) -> str:
    return clock.iso_second(clock.parse_time(str(text))) if text else ""


def _value(value: Any) -> Any:
    """An entity ({id, name, type}) as its id; anything else as it is."""
    if isinstance(value, dict) and "id" in value:
        return None if value["id"] is None else str(value["id"])
    return value


def history_event(ticket_id: str, raw: dict[str, Any]) -> TicketEvent:
    changes: dict[str, list[Any]] = {}
    for prop in raw.get("eventInfo") or []:
        name = str(prop.get("propertyName", ""))
        field = PROPERTIES.get(name, name)
        value = prop.get("propertyValue")
        if isinstance(value, dict) and ("updatedValue" in value or "previousValue" in value):
            changes[field] = [_value(value.get("previousValue")),
                              _value(value.get("updatedValue"))]
        else:
            changes[field] = [None, _value(value)]
    name = str(raw.get("eventName") or "")
    action = {"TicketCreated": "created", "TicketUpdated": "updated"}.get(name, name)
    actor = raw.get("actor") or {}
    when = _time(raw.get("eventTime"))
    # Desk gives history entries no id; the ticket, instant and event name identify one
    return TicketEvent(f"{ticket_id}:{when}:{name}", ticket_id, "history",
                       str(actor.get("name") or actor.get("type") or "system"), when,
                       {"action": action, "changes": changes, "source": raw.get("source")})


def read_history(http: ZohoHttp, ticket_id: str) -> list[TicketEvent]:
    """Every history entry of a ticket, oldest first."""
    events: list[TicketEvent] = []
    start = 0
    while start <= MAX_FROM:
        body = http.request("GET", f"/tickets/{ticket_id}/History",
                            params={"from": start, "limit": HISTORY_LIMIT})
        page = (body or {}).get("data") or []
        events += [history_event(ticket_id, raw) for raw in page]
        if len(page) < HISTORY_LIMIT:
            break
        start += HISTORY_LIMIT
    events.reverse()  # Zoho answers newest first; entries of one second keep their order
    return sorted(events, key=lambda e: e.created_time)


def rating_event(raw: dict[str, Any]) -> TicketEvent | None:
    rating = RATING_VALUES.get(str(raw.get("rating") or "").upper())
    if rating is None or not raw.get("ticketId"):
        return None
    return TicketEvent(str(raw["id"]), str(raw["ticketId"]), "rating", "customer",
                       _time(raw.get("ratedTime")),
                       {"rating": rating, "feedback": raw.get("feedback")})


def _ms(iso: str) -> int:
    return int(clock.parse_time(iso).timestamp() * 1000)


def read_ratings(http: ZohoHttp, ticket_id: str | None = None) -> Iterator[TicketEvent]:
    """Ratings of every department (or one ticket), oldest first. Past the `from` cap the
    read continues in a startTime window from the last rating seen."""
    base: dict[str, Any] = {"department": "allDepartment", "sortBy": "ratedTime"}
    if ticket_id:
        base["ticketId"] = ticket_id
    start, window_from = 0, None
    seen: set[str] = set()
    while True:
        params = {**base, "from": start, "limit": RATINGS_LIMIT}
        if window_from:
            params.update(startTime=_ms(window_from),
                          endTime=_ms(clock.iso(clock.now() + timedelta(days=1))))
        page = (http.request("GET", "/customerHappiness", params=params) or {}).get(
            "data") or []
        last = None
        for raw in page:
            event = rating_event(raw)
            if event is not None and event.id not in seen:
                seen.add(event.id)
                yield event
            last = _time(raw.get("ratedTime")) or last
        if len(page) < RATINGS_LIMIT:
            return
        start += RATINGS_LIMIT
        if start > MAX_FROM:
            if last is None or last == window_from:
                raise BackendError(f"more than {MAX_FROM + 1} Desk ratings share the instant "
                                   f"{last}; Desk cannot page past them")
            start, window_from = 0, last
