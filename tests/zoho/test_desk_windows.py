"""Desk's modifiedTime windows paged by offsets: hundreds of records sharing one instant
are read once each, in a handful of searches (not once more per page boundary), and an
instant whose records come back in a changing order ends in an error, never in a loop."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from deskctl.backends.zoho import ZohoBackend
from deskctl.errors import BackendError
from deskctl.models.records import instant
from tests.zoho.conftest import FakeZoho

JSON = {"Content-Type": "application/json"}
T1 = datetime(2026, 5, 1, 10, 0, tzinfo=timezone.utc)


def desk_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def search(rows: list[dict[str, Any]], shuffled: bool = False) -> Any:
    """GET /contacts/search over ``rows``: modifiedTimeRange (inclusive), sorted by
    modifiedTime (ties in list order, or shuffled on every request), from/limit, count."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        query = {k: v[-1] for k, v in parse_qs(urlparse(request.url).query).items()}
        low, high = (instant(v) for v in query["modifiedTimeRange"].split(","))
        matches = [r for r in rows if low <= instant(r["modifiedTime"]) <= high]
        if shuffled:
            random.shuffle(matches)
        matches.sort(key=lambda r: instant(r["modifiedTime"]))
        start, limit = int(query["from"]), int(query["limit"])
        chunk = matches[start:start + limit]
        if not chunk:
            return 204, JSON, ""
        return 200, JSON, json.dumps({"data": chunk, "count": len(matches)})

    return answer


def contacts(count: int, at: datetime, first: int) -> list[dict[str, Any]]:
    return [{"id": str(2068330000000000000 + first + i), "lastName": f"Tie {first + i}",
             "modifiedTime": desk_time(at), "createdTime": desk_time(at)}
            for i in range(count)]


def test_records_sharing_an_instant_are_read_once_in_a_few_searches(
        zoho: ZohoBackend, fake: FakeZoho) -> None:
    # 250 at one instant, then 6 instants of 60: most page boundaries fall inside one
    rows = contacts(250, T1, 0)
    for i in range(6):
        rows += contacts(60, T1 + timedelta(milliseconds=i + 1), 250 + 60 * i)
    fake.routes[("GET", "/api/v1/contacts/search$")] = search(rows)
    desk = zoho.desk(fake.sandbox.all_portals()[0].id)
    ids = [r.id for r in desk.list_records("contacts", "2026-05-01T09:00:00Z")]
    assert sorted(ids) == sorted(r["id"] for r in rows) and len(ids) == len(set(ids))
    # 610 rows in pages of 99 overlapping by one row: 98 more each (DeskApi.read_page)
    assert desk.read_page == 98
    assert fake.count("GET", "/contacts/search") == 7


@pytest.mark.parametrize(("records", "searches"), [(98, 1), (99, 2), (196, 2), (197, 3)])
def test_a_window_of_n_times_read_page_records_takes_n_searches(
        zoho: ZohoBackend, fake: FakeZoho, records: int, searches: int) -> None:
    """What the catch-up counts on (SideApi.read_back): a window of up to n * 98 records,
    here sharing one instant as a sync's writes in one second do, ends in n searches."""
    rows = contacts(records, T1, 0)
    fake.routes[("GET", "/api/v1/contacts/search$")] = search(rows)
    desk = zoho.desk(fake.sandbox.all_portals()[0].id)
    ids = [r.id for r in desk.list_records("contacts", "2026-05-01T09:00:00Z")]
    assert sorted(ids) == sorted(r["id"] for r in rows) and len(ids) == len(set(ids))
    assert fake.count("GET", "/contacts/search") == searches


def test_an_instant_answered_in_a_changing_order_is_an_error_not_a_loop(
        zoho: ZohoBackend, fake: FakeZoho) -> None:
    random.seed(7)
    fake.routes[("GET", "/api/v1/contacts/search$")] = search(contacts(150, T1, 0),
                                                              shuffled=True)
    desk = zoho.desk(fake.sandbox.all_portals()[0].id)
    with pytest.raises(BackendError, match="changing order"):
        list(desk.list_records("contacts", "2026-05-01T09:00:00Z"))
    assert fake.count("GET", "/contacts/search") < 30
