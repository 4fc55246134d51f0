"""The field-level merge end to end through the CLI, under each conflict policy and on
both backends: one side edits, the other edits, both edit different fields, both set the
same value, both set one field differently (the policy decides; manual waits for
`sync resolve --field`). On zoho, the sync commands talk over loopback sockets to the
sandbox served as Zoho (every request and answer checked against Zoho's specifications);
the edits are made in that sandbox as a user would make them in Zoho."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.server import Faults
from deskctl.config import load_config
from tests.zoho.conftest import serving, zoho_env

T0, T1, T2, T3 = ("2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z", "2026-03-01T10:02:00Z",
                  "2026-03-01T10:03:00Z")
CASES = ("crm-only", "desk-only", "different-fields", "same-value", "same-field")


@pytest.fixture(params=["local", "zoho"])
def backend(request: pytest.FixtureRequest, seeded: Any) -> Iterator[dict[str, str]]:
    """The environment of the commands that reach Zoho (portal, sync): none on local; on
    zoho, the sandbox `seeded` filled, served on a socket of its own (a server starts in
    milliseconds; the sandbox and the state are each test's own)."""
    if request.param == "local":
        yield {}
        return
    sandbox = LocalBackend(load_config().local_path)
    try:
        with serving(sandbox, Faults()) as served:
            yield zoho_env(served.urls[0])
            calls = served.emulator.calls
            assert calls["crm"] and calls["desk"], "the commands never reached the socket"
    finally:
        sandbox.close()


def sync(run: Any, when: str, backend: dict[str, str]) -> None:
    result = run("sync", "run", env={**backend, "DESKCTL_NOW": when})
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
def test_field_merge_matrix(seeded: Any, backend: dict[str, str], policy: str) -> None:
    run = seeded
    assert run("portal", "connect", "acme-support", env=backend).exit_code == 0
    assert run("sync", "configure", "--mode", "bidirectional", "--conflict",
               policy, env=backend).exit_code == 0
    for case in CASES:
        created = run("sandbox", "crm", "create", "Contacts", f"Last_Name={case}",
                      f"Email={case}@merge.example", "Phone=+1 000",
                      env={"DESKCTL_NOW": T0})
        assert created.exit_code == 0, created.stderr
    sync(run, T0, backend)
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
    sync(run, T3, backend)

    def both(case: str) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
        crm = crm_contact(run, f"{case}@merge.example")
        desk = desk_contact(run, f"{case}@merge.example")
        return (crm.get("Phone"), desk.get("phone")), (crm["Last_Name"], desk["lastName"])

    assert both("crm-only") == (("+1 111", "+1 111"), ("crm-only", "crm-only"))
    assert both("desk-only") == (("+1 000", "+1 000"), ("Renamed", "Renamed"))
    assert both("different-fields") == (("+1 111", "+1 111"), ("Renamed", "Renamed"))
    assert both("same-value") == (("+1 555", "+1 555"), ("same-value", "same-value"))
    winner = {"crm-wins": "+1 777", "desk-wins": "+1 888", "newest": "+1 888"}
    conflicts = [c for c in run("sync", "conflicts", "-o", "json", env=backend).json()
                 if c["crm_id"] in {crm for crm, _desk in ids.values()}]
    if policy == "manual":
        assert both("same-field")[0] == ("+1 777", "+1 888")  # each keeps its own, waiting
        [conflict] = conflicts
        assert conflict["fields"] == ["Phone"]
        resolved = run("sync", "resolve", str(conflict["id"]), "--field", "Phone",
                       "--take", "desk", env={**backend, "DESKCTL_NOW": T3})
        assert resolved.exit_code == 0, resolved.stderr
        assert both("same-field")[0] == ("+1 888", "+1 888")
        assert conflict["id"] not in {c["id"] for c in
                                      run("sync", "conflicts", "-o", "json",
                                          env=backend).json()}
    else:
        assert conflicts == []
        assert both("same-field")[0] == (winner[policy], winner[policy])
    sync(run, T3, backend)  # and nothing moves afterwards
    assert both("different-fields") == (("+1 111", "+1 111"), ("Renamed", "Renamed"))
