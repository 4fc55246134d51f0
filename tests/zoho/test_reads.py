"""Reads on the zoho backend within Zoho's documented limits: CRM modules past 100,000
records, the 50-field ceiling, a deleted feed past 2,000, Desk's recycle bin, Desk searches
that return every field (absent means unknown), and instants across the two time formats."""

from __future__ import annotations

import bisect
import json
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from deskctl.backends.zoho import ZohoBackend
from deskctl.errors import BackendError, ValidationError
from deskctl.models.records import instant
from tests.zoho.conftest import FakeZoho

JSON = {"Content-Type": "application/json"}
FIRST_ID = 5725767000000000000
IST = timezone(timedelta(hours=5, minutes=30))
START = datetime(2026, 1, 1, 9, 0, tzinfo=IST)


def _crm_time(i: int, per_second: int) -> str:
    return (START + timedelta(seconds=i // per_second)).isoformat()


def test_a_module_past_100000_records_is_read_whole(zoho: ZohoBackend, fake: FakeZoho) -> None:
    """Zoho stops page_token paging and COQL's OFFSET at 100,000 records; the keyset
    windows never need either. The simulated COQL refuses an OFFSET past 100,000."""
    total = 100_200
    keys = [(_crm_time(i, 4), FIRST_ID + i) for i in range(total)]

    def coql(request: Any) -> tuple[int, dict[str, str], str]:
        query = json.loads(request.body)["select_query"]
        limit = int(re.search(r"limit (\d+)", query)[1])  # type: ignore[index]
        offset = re.search(r"offset (\d+)", query)
        if limit > 2000 or (offset and int(offset[1]) + limit > 100_000):
            return 400, JSON, json.dumps({"code": "LIMIT_EXCEEDED", "status": "error",
                                          "message": "limit exceeded", "details": {}})
        after = re.search(r"Modified_Time > '([^']+)'\).*id > '(\d+)'", query)
        start = bisect.bisect_right(keys, (after[1], int(after[2]))) if after else 0
        rows = [{"id": str(FIRST_ID + i), "Modified_Time": keys[i][0],
                 "Account_Name": f"A{i}"} for i in range(start, min(start + limit, total))]
        return 200, JSON, json.dumps({"data": rows, "info": {
            "count": len(rows), "more_records": start + limit < total}})

    fake.routes[("POST", "/crm/v8/coql$")] = coql
    records = list(zoho.crm.list_records("Accounts", fields=["Account_Name"]))
    assert len(records) == total and len({r.id for r in records}) == total
    assert records[0].modified_time == "2026-01-01T03:30:00Z"  # +05:30 read as an instant
    times = [r.modified_time for r in records]
    assert times == sorted(times)
    assert fake.count("POST", "/crm/v8/coql$") == math.ceil(total / 200)


def _wide_module(fake: FakeZoho, count: int) -> None:
    fake.fail_next("GET", "/crm/v8/settings/modules", (200, JSON, json.dumps({"modules": [
        {"api_name": "Wide", "plural_label": "Wide", "generated_type": "custom",
         "api_supported": True}]})))
    fake.fail_next("GET", "/crm/v8/settings/fields", (200, JSON, json.dumps({"fields": [
        {"api_name": f"Field_{i}", "field_label": f"Field {i}", "data_type": "text"}
        for i in range(count)]})))


def test_more_than_50_fields_is_an_error_before_any_read(zoho: ZohoBackend,
                                                         fake: FakeZoho) -> None:
    _wide_module(fake, 60)
    with pytest.raises(ValidationError, match="Zoho CRM answers at most 50 fields per read"):
        list(zoho.crm.list_records("Wide"))
    with pytest.raises(ValidationError, match="50 fields"):
        list(zoho.crm.list_records("Wide", fields=[f"Field_{i}" for i in range(50)]))
    assert fake.count("POST", "/coql") == 0
    fake.fail_next("POST", "/crm/v8/coql", (204, {}, b""))
    assert list(zoho.crm.list_records("Wide", fields=[f"Field_{i}" for i in range(49)])) == []
    assert fake.count("POST", "/coql") == 1


def _deleted_feed(fake: FakeZoho, total: int, descending: bool = False) -> None:
    """Zoho's deleted feed: `page` only, 10 pages of 200, If-Modified-Since strictly after."""
    stones = [(_crm_time(i, 3), str(FIRST_ID + i)) for i in range(total)]

    def deleted(request: Any) -> tuple[int, dict[str, str], str]:
        page = int(re.search(r"page=(\d+)", request.url)[1])  # type: ignore[index]
        if page > 10:
            return 400, JSON, json.dumps({"code": "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                                          "status": "error", "message": "limit",
                                          "details": {"limit": 2000}})
        since = request.headers.get("If-Modified-Since")
        rows = [s for s in stones if since is None or instant(s[0]) > instant(since)]
        rows.sort(reverse=descending)
        chunk = rows[(page - 1) * 200:page * 200]
        return 200, JSON, json.dumps({"data": [
            {"id": i, "deleted_time": t, "type": "recycle"} for t, i in chunk],
            "info": {"page": page, "per_page": 200, "count": len(chunk),
                     "more_records": page * 200 < len(rows)}})

    fake.routes[("GET", "/crm/v8/Contacts/deleted$")] = deleted


def test_the_deleted_feed_is_read_past_2000(zoho: ZohoBackend, fake: FakeZoho) -> None:
    _deleted_feed(fake, 4500)
    stones = zoho.crm.deleted_records("Contacts")
    assert [s.id for s in stones] == [str(FIRST_ID + i) for i in range(4500)]
    later = zoho.crm.deleted_records("Contacts", since="2026-01-01T03:46:40Z")  # 1,000 s on
    assert [s.id for s in later] == [str(FIRST_ID + i) for i in range(3000, 4500)]


def test_a_deleted_feed_that_cannot_be_windowed_is_an_error(zoho: ZohoBackend,
                                                            fake: FakeZoho) -> None:
    _deleted_feed(fake, 2600, descending=True)  # newest first: a later window adds nothing
    with pytest.raises(BackendError, match="cannot be read past them"):
        zoho.crm.deleted_records("Contacts")


def test_desk_deletions_come_from_the_recycle_bin(zoho: ZohoBackend, fake: FakeZoho,
                                                  monkeypatch) -> None:
    portal = fake.sandbox.all_portals()[0].id
    local = fake.sandbox.desk(portal)
    monkeypatch.setenv("DESKCTL_NOW", "2025-12-15T00:00:00Z")
    expired = local.create_record("contacts", {"lastName": "Old"})
    local.delete_record("contacts", expired.id)
    ids = []
    for i in range(250):
        monkeypatch.setenv("DESKCTL_NOW", f"2026-03-01T10:{i // 60:02d}:{i % 60:02d}Z")
        record = local.create_record("contacts", {"lastName": f"Gone {i}"})
        local.delete_record("contacts", record.id)
        ids.append(record.id)
    account = local.create_record("accounts", {"accountName": "Other kind"})
    local.delete_record("accounts", account.id)
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-02T00:00:00Z")
    desk = zoho.desk(portal)
    stones = desk.deleted_records("contacts")
    assert [s.id for s in stones] == ids  # oldest first; kept 60 days: December's is gone
    assert fake.count("GET", "/recycleBin") == 3  # 100 a page, overlapping by one
    since = desk.deleted_records("contacts", since="2026-03-01T10:04:00Z")
    assert [s.id for s in since] == ids[240:]
    assert [s.id for s in desk.deleted_records("accounts")] == [account.id]


def test_desk_reads_carry_every_field_and_absent_means_unknown(zoho: ZohoBackend,
                                                               fake: FakeZoho) -> None:
    portal = fake.sandbox.all_portals()[0].id
    fake.sandbox.desk(portal).create_record("contacts", {"lastName": "Full", "title": "CTO"})
    desk = zoho.desk(portal)
    [full] = [r for r in desk.list_records("contacts") if r.data.get("lastName") == "Full"]
    assert full.data["title"] == "CTO" and full.modified_time and not full.unknown
    list_view = desk.http.request("GET", "/contacts", params={"from": 1, "limit": 10})
    assert "modifiedTime" not in list_view["data"][0] and "title" not in list_view["data"][0]
    # a field the answer leaves out (hidden from the user's profile) is unknown, not blank
    fake.fail_next("GET", "/api/v1/contacts/search", (200, JSON, json.dumps({"count": 1, "data": [
        {"id": "2068330000000000999", "lastName": "Partial", "firstName": None,
         "modifiedTime": "2026-05-01T10:00:00.000Z", "createdTime": "2026-05-01T10:00:00.000Z"}
    ]})))
    [partial] = list(desk.list_records("contacts", "2026-05-01T00:00:00Z"))
    assert {"title", "city", "email"} <= partial.unknown
    assert "firstName" not in partial.unknown and "firstName" not in partial.data


def test_contacts_read_by_ids_have_an_unknown_modified_time(zoho: ZohoBackend,
                                                           fake: FakeZoho) -> None:
    """contactsByIds answers Contact.json's listViewObject, which has createdTime but no
    modifiedTime: the time is unknown (empty), not the created time, so `newest` cannot
    take a wrong instant; one read of the same record answers it."""
    from deskctl.models.sync import CRM
    from deskctl.sync.merge import Policy, winner

    portal = fake.sandbox.all_portals()[0].id
    local = fake.sandbox.desk(portal)
    created = local.create_record("contacts", {"lastName": "Kim", "email": "k@x.example"})
    local.update_record("contacts", created.id, {"title": "CTO"})
    desk = zoho.desk(portal)
    [by_ids] = desk.get_many("contacts", [created.id])
    assert fake.count("GET", "/contacts/contactsByIds") == 1
    assert by_ids.modified_time == "" and by_ids.created_time
    assert "title" in by_ids.unknown and by_ids.data["email"] == "k@x.example"
    assert desk.get_record("contacts", created.id).modified_time  # the full answer has it
    newest = Policy("bidirectional", "newest", "unlink")
    assert winner(newest, "2020-01-01T00:00:00+05:30", by_ids.modified_time) == CRM


def test_instants_compare_across_zohos_two_time_formats() -> None:
    crm = "2026-11-28T10:00:00+05:30"
    assert instant(crm) == instant("2026-11-28T04:30:00.000Z") == instant("2026-11-28T04:30:00Z")
    assert instant("2026-11-28T04:30:01.200Z") > instant(crm)
    assert crm > "2026-11-28T04:30:01.200Z"  # why strings must never be compared


def test_a_desk_deletion_is_synced_on_zoho(zoho: ZohoBackend, fake: FakeZoho,
                                           tmp_path) -> None:
    from deskctl.config import load_config
    from deskctl.credentials import CredentialStore
    from deskctl.services.integration import IntegrationService
    from deskctl.services.sync import SyncService
    from deskctl.state import StateStore
    from deskctl.sync.run import RunOptions

    [created] = fake.sandbox.crm.create_records("Contacts", [
        {"Last_Name": "Doomed", "Email": "doomed@x.example"}])
    state = StateStore(tmp_path / "state.db")
    IntegrationService(zoho, state, CredentialStore("default")).connect("acme-support")
    service = SyncService(zoho, state, load_config())
    service.configure("bidirectional", None, "propagate")
    assert service.run(RunOptions(), 0)["errors"] == 0
    portal = fake.sandbox.all_portals()[0].id
    [desk_contact] = [r for r in fake.sandbox.desk(portal).list_records("contacts")
                      if r.data.get("email") == "doomed@x.example"]
    fake.sandbox.desk(portal).delete_record("contacts", desk_contact.id)
    report = service.run(RunOptions(force=True), 0)
    assert not report["warnings"]
    assert fake.sandbox.crm.db.record("crm", "Contacts", str(created.id)) is None


def test_an_instant_of_exactly_two_pages_is_read_once(zoho: ZohoBackend, fake: FakeZoho,
                                                      monkeypatch) -> None:
    """198 contacts modified in one second: two full pages of the instant, then Desk's 204
    (which carries no count) ends it."""
    portal = fake.sandbox.all_portals()[0].id
    monkeypatch.setenv("DESKCTL_NOW", "2026-07-01T10:00:00Z")
    local = fake.sandbox.desk(portal)
    ids = {local.create_record("contacts", {"lastName": f"Same {i}"}).id for i in range(198)}
    records = list(zoho.desk(portal).list_records("contacts", "2026-07-01T10:00:00Z"))
    assert {r.id for r in records} >= ids
    assert len(records) == len({r.id for r in records})
    assert fake.count("GET", "/contacts/search") <= 6
