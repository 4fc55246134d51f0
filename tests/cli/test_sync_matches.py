"""`sync link` and `sync ignore`: settling an ambiguous match by hand, through the CLI."""

from __future__ import annotations

import pytest

EMAIL = "twin@x.example"


@pytest.fixture
def ambiguous(run):
    """One CRM contact and two Desk contacts sharing its email: an ambiguous match."""
    assert run("sandbox", "seed", "--contacts", "0", "--accounts", "0", "--leads", "0",
               "--deals", "0", "--tickets", "0").exit_code == 0
    assert run("portal", "connect", "acme-support").exit_code == 0
    assert run("sync", "configure", "--mode", "bidirectional").exit_code == 0
    crm = run("sandbox", "crm", "create", "Contacts", "Last_Name=Twin", f"Email={EMAIL}",
              "Phone=+1 555 0101", "-o", "json").json()["id"]
    desk = [run("sandbox", "desk", "create", "contacts", f"lastName={name}", f"email={EMAIL}",
                "-o", "json").json()["id"] for name in ("Twin", "Other")]
    first = run("sync", "run")
    assert first.exit_code == 3
    errors = run("sync", "errors", "-o", "json").json()
    assert any(e["record_id"] == crm and "ambiguous match" in e["message"] for e in errors)
    return crm, desk[0], desk[1]


def desk_contact(run, record_id: str) -> dict:
    return next(r for r in run("sandbox", "desk", "list", "contacts", "-o", "json").json()
                if r["id"] == record_id)


def crm_with_email(run) -> list[dict]:
    return [r for r in run("sandbox", "crm", "list", "Contacts", "-o", "json").json()
            if r.get("Email") == EMAIL]


def test_link_and_ignore_settle_an_ambiguous_match(run, ambiguous) -> None:
    crm, twin, other = ambiguous
    linked = run("sync", "link", crm, twin)
    assert linked.exit_code == 0, linked.stderr
    assert "the next 'deskctl sync run' merges them" in linked.stderr
    assert run("sync", "link", crm, twin).exit_code == 0  # again: nothing changes
    ignored = run("sync", "ignore", other, "-o", "json")
    assert ignored.exit_code == 0 and ignored.json()["side"] == "desk"
    status = run("sync", "status", "-o", "json").json()
    assert [(i["side"], i["record_id"]) for i in status["ignored"]] == [("desk", other)]
    done = run("sync", "run")
    assert done.exit_code == 0, done.stderr
    assert desk_contact(run, twin)["phone"] == "+1 555 0101"  # merged: the blank filled
    assert len(crm_with_email(run)) == 1  # the ignored record was not copied to the CRM
    assert run("sync", "errors", "-o", "json").json() == []
    audit = [e["action"] for e in run("audit", "-o", "json").json()]
    assert "sync.link" in audit and "sync.ignore" in audit
    # taken back: the next run syncs it (nothing left to match: it is copied to the CRM)
    assert run("sync", "ignore", other, "--undo").exit_code == 0
    assert run("sync", "status", "-o", "json").json()["ignored"] == []
    assert run("sync", "run").exit_code == 0
    assert sorted(r["Last_Name"] for r in crm_with_email(run)) == ["Other", "Twin"]


def test_ignoring_a_paired_record_unpairs_it_and_undo_pairs_it_again(run, ambiguous) -> None:
    crm, twin, other = ambiguous
    assert run("sync", "link", crm, twin).exit_code == 0
    assert run("sync", "ignore", other).exit_code == 0
    assert run("sync", "run").exit_code == 0
    result = run("sync", "ignore", crm, "-o", "json").json()
    assert result["side"] == "crm" and result["unpaired_from"] == twin
    run("sandbox", "crm", "update", "Contacts", crm, "Phone=+1 555 0199")
    assert run("sync", "run").exit_code == 0
    assert desk_contact(run, twin)["phone"] == "+1 555 0101"  # left out: nothing flows
    assert run("sync", "ignore", crm, "--undo").exit_code == 0
    assert run("sync", "run").exit_code == 0
    assert desk_contact(run, twin)["phone"] == "+1 555 0199"  # paired again by email
    assert len(crm_with_email(run)) == 1
    assert run("sync", "status", "-o", "json").json()["pairs"]["Contacts"] == 1


def test_link_refuses_what_it_cannot_do(run, ambiguous) -> None:
    crm, twin, other = ambiguous
    unknown = run("sync", "link", crm, "999999")
    assert unknown.exit_code == 1 and "no Desk Contacts record 999999" in unknown.stderr
    standard = run("--as", "sam.sales@acme.example", "sync", "link", crm, twin)
    assert standard.exit_code == 6
    assert run("sync", "link", crm, twin).exit_code == 0
    taken = run("sync", "link", crm, other)
    assert taken.exit_code == 1 and f"already paired with Desk record {twin}" in taken.stderr
    assert run("sync", "ignore", "999999").exit_code == 1
    assert [e["action"] for e in run("audit", "-o", "json").json()].count("sync.link") == 1


def test_ignoring_one_of_an_ambiguous_pair_settles_it_after_the_cursor_moved_on(run) -> None:
    """Two CRM contacts share an email (ambiguous: neither is copied). Runs later, when no
    read brings either back, ignoring one must still let the other be synced: the ignore
    is the change that makes the group worth looking at again."""
    at = iter(f"2026-06-01T00:0{m}:00Z" for m in range(10))

    def later(*args: str) -> object:
        return run(*args, env={"DESKCTL_NOW": next(at)})

    assert later("sandbox", "seed", "--contacts", "0", "--accounts", "0", "--leads", "0",
                 "--deals", "0", "--tickets", "0").exit_code == 0
    assert later("portal", "connect", "acme-support").exit_code == 0
    assert later("sync", "configure", "--mode", "bidirectional").exit_code == 0
    _twin, second = (later("sandbox", "crm", "create", "Contacts", f"Last_Name={name}",
                           f"Email={EMAIL}", "-o", "json").json()["id"]
                     for name in ("Twin", "Other"))
    assert later("sync", "run").exit_code == 3
    assert later("sync", "run").exit_code == 3  # minutes later: the cursor is past both
    assert later("sync", "ignore", second).exit_code == 0
    done = later("sync", "run")
    assert done.exit_code == 0, done.stderr
    assert [c["lastName"] for c in run("sandbox", "desk", "list", "contacts", "-o",
                                       "json").json() if c.get("email") == EMAIL] == ["Twin"]
    assert run("sync", "errors", "-o", "json").json() == []
