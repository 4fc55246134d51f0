"""Zoho's daily API limit on either service: the sync run stops at once with exit 7, keeps
what it wrote (pairs, cursors, intents), and the next run finishes without duplicates."""

from __future__ import annotations

import json

from tests.zoho.conftest import FakeZoho

JSON = {"Content-Type": "application/json"}
ZOHO = ("--backend", "zoho")
# Desk: DeskAPIDocument "Errors"/"API credits" (errorCode THRESHOLD_EXCEEDED)
DESK_LIMIT = (429, {**JSON, "Retry-After": "3600"}, json.dumps(
    {"errorCode": "THRESHOLD_EXCEEDED",
     "message": "The API credits for the day have been exhausted."}).encode())
# CRM: the exhausted-credits answer (code per crm-api.md §10.1 is UNCONFIRMED; see http.py)
CRM_LIMIT = (429, JSON, json.dumps(
    {"code": "LIMIT_REACHED", "details": {}, "status": "error",
     "message": "You have reached the API credits limit for the last 24 hours"}).encode())


def _connected(run, fake: FakeZoho, mode: str) -> str:
    assert run(*ZOHO, "portal", "connect", "acme-support").exit_code == 0
    assert run(*ZOHO, "sync", "configure", "--mode", mode).exit_code == 0
    return fake.sandbox.all_portals()[0].id


def _desk_emails(fake: FakeZoho, portal: str) -> list[str]:
    return sorted(r.data["email"] for r in fake.sandbox.desk(portal).list_records("contacts"))


def _last_run(run) -> dict:
    return run(*ZOHO, "sync", "status", "-o", "json").json()


def test_desk_daily_limit_stops_the_run_and_the_next_run_resumes(run, fake: FakeZoho,
                                                                   zoho_credentials) -> None:
    fake.sandbox.crm.create_records("Contacts", [
        {"Last_Name": f"L{i}", "Email": f"l{i}@x.example"} for i in range(120)])
    portal = _connected(run, fake, "one-way")
    fake.fail_next("POST", r"/api/v1/contacts$", *[None] * 40, *[DESK_LIMIT] * 20)
    stopped = run(*ZOHO, "sync", "run")
    assert stopped.exit_code == 7, stopped.stderr
    assert "Zoho Desk API limit reached (THRESHOLD_EXCEEDED" in stopped.stderr
    assert "the limit resets 20" in stopped.stderr  # Retry-After, as a time
    written = _desk_emails(fake, portal)
    assert 40 <= len(written) < 120
    sent = fake.count("POST", r"/api/v1/contacts$")
    assert sent <= 40 + 10  # stopped at once: only calls already in flight (8 workers) follow
    assert _last_run(run)["last_run"]["outcome"] == "api-limit"
    fake.faults.clear()  # a new day
    before = fake.count("POST", r"/api/v1/contacts$")
    resumed = run(*ZOHO, "sync", "run")
    assert resumed.exit_code == 0, resumed.stderr
    emails = _desk_emails(fake, portal)
    assert emails == sorted(f"l{i}@x.example" for i in range(120))  # all, none twice
    # the pairs written before the stop were kept: only the missing contacts were created
    assert fake.count("POST", r"/api/v1/contacts$") - before == 120 - len(written)
    again = run(*ZOHO, "sync", "run")
    assert again.exit_code == 0 and _desk_emails(fake, portal) == emails


def test_crm_daily_limit_stops_the_run_and_the_next_run_resumes(run, fake: FakeZoho,
                                                                  zoho_credentials) -> None:
    portal = _connected(run, fake, "bidirectional")
    desk = fake.sandbox.desk(portal)
    for i in range(150):
        desk.create_record("contacts", {"lastName": f"D{i}", "email": f"d{i}@x.example"})
    fake.fail_next("POST", r"/crm/v8/Contacts$", None, CRM_LIMIT)
    stopped = run(*ZOHO, "sync", "run")
    assert stopped.exit_code == 7, stopped.stderr
    assert "Zoho CRM API limit reached (LIMIT_REACHED" in stopped.stderr
    crm = fake.sandbox.crm
    assert len(list(crm.list_records("Contacts"))) == 100  # the first batch of 100
    assert fake.count("POST", r"/crm/v8/Contacts$") == 2  # nothing after the refusal
    fake.faults.clear()
    resumed = run(*ZOHO, "sync", "run")
    assert resumed.exit_code == 0, resumed.stderr
    emails = sorted(r.data["Email"] for r in crm.list_records("Contacts"))
    assert emails == sorted(f"d{i}@x.example" for i in range(150))
    assert fake.count("POST", r"/crm/v8/Contacts$") == 3  # one more batch: the other 50
