"""The field-level merge end to end through the CLI on the local backend, under each
conflict policy: one side edits, the other edits, both edit different fields, both set the
same value, both set one field differently (the policy decides; manual waits for
`sync resolve --field`)."""

from __future__ import annotations

from typing import Any

import pytest

T0, T1, T2, T3 = ("2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z", "2026-03-01T10:02:00Z",
                  "2026-03-01T10:03:00Z")
CASES = ("crm-only", "desk-only", "different-fields", "same-value", "same-field")


def sync(run: Any, when: str) -> None:
    result = run("sync", "run", env={"DESKCTL_NOW": when})
    assert result.exit_code in (0, 3), result.stderr  # 3: the seed's ambiguous duplicates


def crm_contact(run: Any, email: str) -> dict[str, Any]:
    rows = run("sandbox", "crm", "list", "Contacts", "-o", "json").json()
    [row] = [r for r in rows if str(r.get("Email", "")).lower() == email]
    return row  # type: ignore[no-any-return]


def desk_contact(run: Any, email: str) -> dict[str, Any]:
    rows = run("sandbox", "desk", "list", "contacts", "-o", "json").json()
    [row] = [r for r in rows if str(r.get("email", "")).lower() == email]
    return row  # type: ignore[no-any-return]


@pytest.mark.parametrize("policy", ["crm-wins", "desk-wins", "newest", "manual"])
def test_field_merge_matrix(seeded: Any, policy: str) -> None:
    run = seeded
    assert run("portal", "connect", "acme-support").exit_code == 0
    assert run("sync", "configure", "--mode", "bidirectional", "--conflict",
               policy).exit_code == 0
    for case in CASES:
        created = run("sandbox", "crm", "create", "Contacts", f"Last_Name={case}",
                      f"Email={case}@merge.example", "Phone=+1 000",
                      env={"DESKCTL_NOW": T0})
        assert created.exit_code == 0, created.stderr
    sync(run, T0)
    ids = {case: (crm_contact(run, f"{case}@merge.example")["id"],
                  desk_contact(run, f"{case}@merge.example")["id"]) for case in CASES}
    crm_edits = {"crm-only": ["Phone=+1 111"], "different-fields": ["Phone=+1 111"],
                 "same-value": ["Phone=+1 555"], "same-field": ["Phone=+1 777"]}
    desk_edits = {"desk-only": ["lastName=Renamed"], "different-fields": ["lastName=Renamed"],
                  "same-value": ["phone=+1 555"], "same-field": ["phone=+1 888"]}
    for case, edits in crm_edits.items():  # the CRM edits first, Desk's a minute later
        assert run("sandbox", "crm", "update", "Contacts", ids[case][0], *edits,
                   env={"DESKCTL_NOW": T1}).exit_code == 0
    for case, edits in desk_edits.items():
        assert run("sandbox", "desk", "update", "contacts", ids[case][1], *edits,
                   env={"DESKCTL_NOW": T2}).exit_code == 0
    sync(run, T3)

    def both(case: str) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
        crm = crm_contact(run, f"{case}@merge.example")
        desk = desk_contact(run, f"{case}@merge.example")
        return (crm.get("Phone"), desk.get("phone")), (crm["Last_Name"], desk["lastName"])

    assert both("crm-only") == (("+1 111", "+1 111"), ("crm-only", "crm-only"))
    assert both("desk-only") == (("+1 000", "+1 000"), ("Renamed", "Renamed"))
    assert both("different-fields") == (("+1 111", "+1 111"), ("Renamed", "Renamed"))
    assert both("same-value") == (("+1 555", "+1 555"), ("same-value", "same-value"))
    winner = {"crm-wins": "+1 777", "desk-wins": "+1 888", "newest": "+1 888"}
    conflicts = [c for c in run("sync", "conflicts", "-o", "json").json()
                 if c["crm_id"] in {crm for crm, _desk in ids.values()}]
    if policy == "manual":
        assert both("same-field")[0] == ("+1 777", "+1 888")  # each keeps its own, waiting
        [conflict] = conflicts
        assert conflict["fields"] == ["Phone"]
        resolved = run("sync", "resolve", str(conflict["id"]), "--field", "Phone",
                       "--take", "desk", env={"DESKCTL_NOW": T3})
        assert resolved.exit_code == 0, resolved.stderr
        assert both("same-field")[0] == ("+1 888", "+1 888")
        assert conflict["id"] not in {c["id"] for c in
                                      run("sync", "conflicts", "-o", "json").json()}
    else:
        assert conflicts == []
        assert both("same-field")[0] == (winner[policy], winner[policy])
    sync(run, T3)  # and nothing moves afterwards
    assert both("different-fields") == (("+1 111", "+1 111"), ("Renamed", "Renamed"))
