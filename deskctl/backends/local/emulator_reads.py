"""The emulator's read endpoints, answered in the shapes and within the limits Zoho documents:
the CRM deleted-records feed, Desk searches and the recycle bin (COQL: emulator_coql). Each
function returns (HTTP status, JSON body or None) or raises a deskctl error that the
emulator turns into Zoho's error answer."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from deskctl import clock
from deskctl.errors import ValidationError
from deskctl.models.records import Record, Tombstone, instant

Answer = tuple[int, Any]


@dataclasses.dataclass
class Reply:
    """One answer of the emulator: HTTP status, JSON body (None: no body) and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def encoded(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body).encode()

DELETED_REACH = 2000  # the deleted feed pages with `page` only (crm-api.md §4.2)
RECYCLE_DAYS, RECYCLE_LIMIT = 60, 100  # Desk recycle bin: 60 days; `limit` up to 100
SEARCH_MAX_FROM = 4999  # desk-api.md §4.4: `from` beyond 0-4999 is refused with 422
def desk_time(iso: str) -> str:
    """Our ISO time in Desk's format, with milliseconds: '...T10:00:00.000Z'."""
    return iso.replace("Z", ".000Z") if iso else iso


def _desk_range(value: str) -> tuple[datetime, datetime]:
    try:
        low, high = (instant(v) for v in value.split(","))
    except ValueError:
        raise ValidationError(f"invalid time range {value!r}") from None
    return low, high


def desk_search(records: list[Record], query: dict[str, str],
                shape: Callable[[Record], dict[str, Any]]) -> Answer:
    """`GET /{kind}/search`: filters ANDed; `modifiedTimeRange` compares instants (both
    bounds inclusive); `sortBy=modifiedTime` keeps the write order among equal times;
    `count` is every match, `data` one window of them; `from` 0-based up to 4999."""
    matches = records
    for name, value in query.items():
        if name == "modifiedTimeRange":
            low, high = _desk_range(value)
            matches = [r for r in matches if low <= instant(r.modified_time) <= high]
        elif name == "_all":
            matches = [r for r in matches if any(value.lower() in str(v).lower()
                                                 for v in r.data.values())]
        elif name not in ("from", "limit", "sortBy"):
            matches = [r for r in matches if str(r.data.get(name, "")).lower() ==
                       value.lower()]
    if query.get("sortBy", "").startswith("-"):
        matches = list(reversed(matches))
    start, limit = int(query.get("from", 0)), int(query.get("limit", 10))
    if start > SEARCH_MAX_FROM:
        raise ValidationError("The value passed for field 'from' exceeds the range of "
                              "'0-4999'.")
    chunk = matches[start:start + limit]
    if not chunk:
        return 204, None
    return 200, {"data": [shape(r) for r in chunk], "count": len(matches)}


def desk_window(query: dict[str, str],
                window: Callable[[str, str, int, int], tuple[int, list[Record]]],
                shape: Callable[[Record], dict[str, Any]]) -> Answer | None:
    """The search the sync reads with (`modifiedTimeRange` only, sorted by modifiedTime):
    desk_search's very answer, from ``window`` (first and last whole second, offset,
    limit -> every match's count and that page), not from every record. None for any
    other search."""
    if set(query) - {"modifiedTimeRange", "sortBy", "from", "limit"} or \
            query.get("sortBy") != "modifiedTime" or "modifiedTimeRange" not in query:
        return None
    low, high = _desk_range(query["modifiedTimeRange"])
    start, limit = int(query.get("from", 0)), int(query.get("limit", 10))
    if start > SEARCH_MAX_FROM:
        raise ValidationError("The value passed for field 'from' exceeds the range of "
                              "'0-4999'.")
    # served by the sandbox's whole seconds: an instant is in [low, high] when its second
    # is in [low rounded up, high rounded down]
    first = low.replace(microsecond=0) + timedelta(seconds=1 if low.microsecond else 0)
    count, chunk = window(clock.iso_second(first), clock.iso_second(high), start,
                          limit)
    if not chunk:
        return 204, None
    return 200, {"data": [shape(r) for r in chunk], "count": count}


def recycle_bin(stones: dict[str, list[Tombstone]], query: dict[str, str]) -> Answer:
    """`GET /recycleBin` (Desk "List deleted resources"): entries of the last 60 days,
    `module` filter, `sortBy` deletedTime ascending by default (`-` descending), `from`
    1-based, `limit` up to 100."""
    limit = int(query.get("limit", 10))
    if not 1 <= limit <= RECYCLE_LIMIT:
        raise ValidationError(f"limit must be between 1 and {RECYCLE_LIMIT}")
    oldest = clock.iso_second(clock.now() - timedelta(days=RECYCLE_DAYS))
    module = query.get("module")
    rows = [(s, kind) for kind, kind_stones in stones.items() if module in (None, kind)
            for s in kind_stones if s.deleted_time >= oldest]
    rows.sort(key=lambda row: row[0].deleted_time,
              reverse=query.get("sortBy", "") == "-deletedTime")
    start = int(query.get("from", 1))
    chunk = rows[max(start - 1, 0):][:limit]
    if not chunk:
        return 204, None
    return 200, {"data": [{"id": s.id, "type": kind.capitalize(),
                           "deletedTime": desk_time(s.deleted_time), "displayName": None,
                           "departmentId": None, "deletedById": None}
                          for s, kind in chunk]}


def crm_deleted(stones: list[Tombstone], query: dict[str, str]) -> Answer:
    """`GET /{module}/deleted`: oldest first, `page`/`per_page` only, 2,000 records at most
    (no page_token; getDeletedRecords in crm-oas record.json)."""
    per_page = min(int(query.get("per_page", 200)), 200)
    page = int(query.get("page", 1))
    if "page_token" in query or page * per_page > DELETED_REACH:
        raise ValidationError("DISCRETE_PAGINATION_LIMIT_EXCEEDED: the deleted records "
                              f"can be paged up to {DELETED_REACH} records")
    chunk = stones[(page - 1) * per_page:page * per_page]
    if not chunk:
        return 204, None
    return 200, {"data": [{"id": s.id, "deleted_time": s.deleted_time.replace("Z", "+00:00"),
                           "type": "recycle", "display_name": None, "deleted_by": None,
                           "created_by": None} for s in chunk],
                 "info": {"per_page": per_page, "count": len(chunk), "page": page,
                          "more_records": page * per_page < len(stones)}}
