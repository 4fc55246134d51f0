"""The emulator is as strict as Zoho (it refuses what Zoho refuses and answers only what
Zoho's response schemas list), and the zoho backend writes what Zoho expects: replies from
the department's From address with cc as cc, custom fields under "cf", and the portal's
own fields (organizationFields) as the rule for its writes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deskctl.backends.zoho import ZohoBackend
from deskctl.errors import ValidationError
from deskctl.models.tickets import DEAL_LINK_FIELD
from tests.zoho.conftest import DESK, FakeZoho

JSON = {"Content-Type": "application/json"}


def portal_with_ticket(fake: FakeZoho) -> tuple[str, str, str]:
    portal = next(p for p in fake.sandbox.all_portals() if p.name == "acme-support")
    desk = fake.sandbox.desk(portal.id)
    contact = desk.create_record("contacts", {"lastName": "Roe", "email": "kim@roe.example"})
    ticket = desk.create_record("tickets", {"subject": "Broken", "contactId": contact.id,
                                            "departmentId": desk.departments()[0]["id"]})
    return portal.id, ticket.id, contact.id


def call(fake: FakeZoho, org: str, method: str, path: str, body: Any = None) -> Any:
    fake.emulator.tokens.add("t")
    reply = fake.emulator.handle(method, DESK + "/api/v1" + path,
                                 {"Authorization": "Zoho-oauthtoken t", "orgId": org, **JSON},
                                 json.dumps(body).encode() if body is not None else None)
    return reply.status, reply.body


def test_the_emulator_refuses_what_zoho_refuses(fake: FakeZoho) -> None:
    org, ticket, _contact = portal_with_ticket(fake)
    status, body = call(fake, org, "POST", f"/tickets/{ticket}/sendReply",
                        {"channel": "EMAIL", "to": "kim@roe.example", "content": "hi"})
    assert status == 422 and body["errorCode"] == "INVALID_DATA"
    assert body["errors"][0]["fieldName"] == "/fromEmailAddress"
    assert body["errors"][0]["errorType"] == "missing"
    status, body = call(fake, org, "POST", f"/tickets/{ticket}/sendReply", {
        "channel": "EMAIL", "to": "kim@roe.example", "content": "hi",
        "fromEmailAddress": "someone@else.example"})
    assert status == 422 and body["errors"][0]["fieldName"] == "/fromEmailAddress"
    status, body = call(fake, org, "PATCH", f"/tickets/{ticket}", {"cf_region": "EU"})
    assert status == 422 and body["errors"][0] == {
        "fieldName": "/cf_region", "errorType": "invalid",
        "errorMessage": "PATCH /api/v1/tickets/{ticketId} body: 'cf_region' is not declared"}
    status, body = call(fake, org, "GET", "/contacts?sortOrder=asc")
    assert status == 422 and body["errorCode"] == "UNPROCESSABLE_ENTITY"
    assert [e.kind for e in fake.sandbox.desk(org).ticket_events(ticket)] == ["history"]


def test_list_views_answer_only_what_zoho_lists(fake: FakeZoho) -> None:
    org, _ticket, contact = portal_with_ticket(fake)
    _status, listed = call(fake, org, "GET", "/contacts?from=1&limit=10")
    row = next(r for r in listed["data"] if r["id"] == contact)
    assert "modifiedTime" not in row and "cf" not in row  # Contact.json list schema
    assert row["lastName"] == "Roe" and "firstName" in row and row["firstName"] is None
    _status, one = call(fake, org, "GET", f"/contacts/{contact}")
    assert one["modifiedTime"].endswith(".000Z")


def test_replies_go_out_from_the_department_with_cc(fake: FakeZoho,
                                                    zoho: ZohoBackend) -> None:
    org, ticket, _contact = portal_with_ticket(fake)
    desk = zoho.desk(org)
    reply = desk.add_ticket_event(ticket, "reply", "admin@acme.example", {
        "content": "fixed", "to": ["kim@roe.example"], "cc": ["boss@roe.example"]})
    assert reply.data["from"] == "support@acme-support.example"
    [mail] = fake.sandbox.outbox()
    assert (mail["from"], mail["to"], mail["cc"]) == (
        "support@acme-support.example", "kim@roe.example", "boss@roe.example")
    [event] = desk.ticket_events(ticket, ("reply",))
    assert (event.kind, event.author) == ("reply", "admin@acme.example")
    assert event.data["to"] == ["kim@roe.example"] and event.data["cc"] == ["boss@roe.example"]
    assert event.data["from"] == "support@acme-support.example"
    with pytest.raises(ValidationError, match="not an active From address"):
        desk.add_ticket_event(ticket, "forward", "admin@acme.example", {
            "content": "fyi", "to": ["x@y.example"], "from": "me@elsewhere.example"})
    assert fake.count("POST", "/sendReply") == 1
    assert fake.count("GET", "/mailReplyAddress") == 1  # once per department and command


def test_writes_follow_the_portal_fields_not_the_local_table(fake: FakeZoho,
                                                              zoho: ZohoBackend) -> None:
    org, ticket, contact = portal_with_ticket(fake)
    fields = {"data": [
        {"apiName": "lastName", "displayLabel": "Last Name", "type": "Text",
         "isMandatory": True, "isCustomField": False, "maxLength": 80},
        {"apiName": "title", "displayLabel": "Title", "type": "Text", "isMandatory": False,
         "isCustomField": False, "maxLength": 20},
        {"apiName": "cf_region", "displayLabel": "Region", "type": "Picklist",
         "isMandatory": False, "isCustomField": True, "maxLength": 120,
         "allowedValues": [{"value": "EU"}, {"value": "US"}]}]}
    fake.fail_next("GET", "/api/v1/organizationFields", (200, JSON, json.dumps(fields)))
    desk = zoho.desk(org)
    with pytest.raises(ValidationError, match="longer than 20 characters"):
        desk.update_record("contacts", contact, {"title": "Head of Customer Success"})
    with pytest.raises(ValidationError, match="invalid value 'APAC'"):
        desk.update_record("contacts", contact, {"cf_region": "APAC"})
    assert fake.count("PATCH", "/contacts/") == 0
    assert desk.fields("contacts").field("title").max_length == 20  # type: ignore[union-attr]
    statuses = desk.fields("tickets").field("status")
    assert statuses is not None and "Escalated" in statuses.choices
    desk.update_record("tickets", ticket, {"status": "On Hold", DEAL_LINK_FIELD: "5725"})
    assert fake.sandbox.desk(org).get_record("tickets", ticket).data[DEAL_LINK_FIELD] == "5725"


def test_custom_fields_travel_under_cf(zoho: ZohoBackend) -> None:
    desk = zoho.desk("1")
    assert desk._body({"subject": "s", "cf_region": "EU", DEAL_LINK_FIELD: "9"}) == {
        "subject": "s", "cf": {"cf_region": "EU", "cf_deal_ids": "9"}}
    record = desk._record({"id": "1", "subject": "s", "createdTime": "2026-01-01T00:00:00.000Z",
                           "cf": {"cf_region": "EU", "cf_deal_ids": None}})
    assert record.data == {"subject": "s", "cf_region": "EU"}
