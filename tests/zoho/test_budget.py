"""The run report's API calls are the HTTP requests the zoho backend sent (reads and writes
apart), and `sync run --max-calls N` sends no more than N of them, exits 7 keeping what it
did, and the next run finishes without duplicates."""

from __future__ import annotations

from tests.zoho.conftest import FakeZoho

ZOHO = ("--backend", "zoho")


def api_requests(fake: FakeZoho, start: int) -> list[tuple[str, str]]:
    return [(m, u) for m, u in fake.requests[start:] if "/oauth/" not in u]


def linked(run, fake: FakeZoho, contacts: int) -> str:
    fake.sandbox.crm.create_records("Contacts", [
        {"Last_Name": f"B{i}", "Email": f"b{i}@x.example"} for i in range(contacts)])
    assert run(*ZOHO, "portal", "connect", "acme-support").exit_code == 0
    assert run(*ZOHO, "sync", "configure", "--mode", "bidirectional").exit_code == 0
    return fake.sandbox.all_portals()[0].id


def test_the_report_counts_http_requests_reads_and_writes(run, fake: FakeZoho,
                                                          zoho_credentials) -> None:
    linked(run, fake, 210)  # more than one CRM page of 200: calls != requests
    start = len(fake.requests)
    result = run(*ZOHO, "-o", "json", "sync", "run")
    assert result.exit_code == 0, result.stderr
    calls = result.json()["api_calls"]
    sent = api_requests(fake, start)[1:]  # the first checks the role, before the run
    writes = [u for m, u in sent if m != "GET" and not u.endswith("/coql")]  # COQL reads
    assert calls["crm_writes"] + calls["desk_writes"] == len(writes) == 210
    assert calls["crm"] + calls["desk"] + calls["setup"] == len(sent)
    assert calls["crm_reads"] + calls["desk_reads"] == len(sent) - len(writes) - calls["setup"]
    crm_pages = sum(1 for _m, u in sent if u.endswith("/crm/v8/coql"))
    assert crm_pages == 3  # Contacts: two COQL pages of 200 for 210; Accounts: one


def test_max_calls_stops_after_n_requests_and_the_next_run_resumes(run, fake: FakeZoho,
                                                                   zoho_credentials) -> None:
    portal = linked(run, fake, 60)
    start = len(fake.requests)
    stopped = run(*ZOHO, "sync", "run", "--max-calls", "25")
    assert stopped.exit_code == 7, stopped.stderr
    assert "--max-calls 25" in stopped.stderr
    assert len(api_requests(fake, start)) == 1 + 25  # the role check, then the budget
    status = run(*ZOHO, "sync", "status", "-o", "json").json()
    assert status["last_run"]["outcome"] == "api-limit"
    kept = status["pairs"].get("Contacts", 0)
    assert kept > 0  # what was written before the stop is recorded
    desk = fake.sandbox.desk(portal)
    written = len(list(desk.list_records("contacts")))
    assert written == kept  # every contact written is paired: no orphan to duplicate later
    resumed = run(*ZOHO, "sync", "run")
    assert resumed.exit_code == 0, resumed.stderr
    emails = sorted(r.data["email"] for r in desk.list_records("contacts"))
    assert emails == sorted(f"b{i}@x.example" for i in range(60))  # each once
    assert run(*ZOHO, "sync", "status", "-o", "json").json()["pairs"]["Contacts"] == 60
