"""The integration's lifecycle: every action from every state, allowed and refused."""

from __future__ import annotations

import pytest

START = {
    "not-set-up": [],
    "active": [["portal", "connect", "acme-support"]],
    "deactivated": [["portal", "connect", "acme-support"],
                    ["integration", "deactivate", "--yes"]],
}

ACTIONS = {
    "connect P1": ["portal", "connect", "acme-support"],
    "connect P2": ["portal", "connect", "acme-labs"],
    "create": ["portal", "create", "brand-new"],
    "connect-other": ["portal", "connect-other", "--admin-email", "helen@globex.example",
                      "--zsc-key-stdin"],
    "switch P2": ["portal", "switch", "acme-labs", "--yes"],
    "switch P1": ["portal", "switch", "acme-support", "--yes"],
    "deactivate": ["integration", "deactivate", "--yes"],
    "reauth": ["integration", "reauth"],
}

ONE_PORTAL = "only one portal can be linked at a time"
NOT_ACTIVE = "integration is not active"
# (start, action) -> (exit code, state afterwards, linked portal afterwards, stderr snippet)
TABLE = {
    ("not-set-up", "connect P1"): (0, "active", "acme-support", ""),
    ("not-set-up", "connect P2"): (0, "active", "acme-labs", ""),
    ("not-set-up", "create"): (0, "active", "brand-new", ""),
    ("not-set-up", "connect-other"): (0, "active", "globex-help", ""),
    ("not-set-up", "switch P2"): (1, "not-set-up", None, NOT_ACTIVE),
    ("not-set-up", "switch P1"): (1, "not-set-up", None, NOT_ACTIVE),
    ("not-set-up", "deactivate"): (1, "not-set-up", None, NOT_ACTIVE),
    ("not-set-up", "reauth"): (1, "not-set-up", None, NOT_ACTIVE),
    ("active", "connect P1"): (0, "active", "acme-support", "already linked; nothing changed"),
    ("active", "connect P2"): (1, "active", "acme-support", ONE_PORTAL),
    ("active", "create"): (1, "active", "acme-support", ONE_PORTAL),
    ("active", "connect-other"): (1, "active", "acme-support", ONE_PORTAL),
    ("active", "switch P2"): (0, "active", "acme-labs", "Switched to portal acme-labs"),
    ("active", "switch P1"): (1, "active", "acme-support", "nothing to switch"),
    ("active", "deactivate"): (0, "deactivated", None, "deactivated"),
    ("active", "reauth"): (0, "active", "acme-support", ""),
    ("deactivated", "connect P1"): (0, "active", "acme-support", ""),
    ("deactivated", "connect P2"): (0, "active", "acme-labs", ""),
    ("deactivated", "create"): (0, "active", "brand-new", ""),
    ("deactivated", "connect-other"): (0, "active", "globex-help", ""),
    ("deactivated", "switch P2"): (1, "deactivated", None, NOT_ACTIVE),
    ("deactivated", "switch P1"): (1, "deactivated", None, NOT_ACTIVE),
    ("deactivated", "deactivate"): (1, "deactivated", None, NOT_ACTIVE),
    ("deactivated", "reauth"): (1, "deactivated", None, NOT_ACTIVE),
}


def test_the_table_covers_every_state_and_action() -> None:
    assert set(TABLE) == {(s, a) for s in START for a in ACTIONS}


@pytest.mark.parametrize("start,action", sorted(TABLE), ids=[f"{s}:{a}" for s, a in sorted(TABLE)])
def test_transition(seeded, start: str, action: str) -> None:
    key = seeded("sandbox", "info", "-o", "json").json()["portals"][2]["zsc_key"]
    for step in START[start]:
        assert seeded(*step).exit_code == 0
    code, state, portal, snippet = TABLE[(start, action)]
    audit_before = len(seeded("audit", "-o", "json").json() or [])
    result = seeded(*ACTIONS[action], input=key + "\n")
    assert result.exit_code == code, result.stderr
    assert snippet in result.stderr
    status = seeded("integration", "status", "-o", "json").json()
    assert status["state"] == state
    assert (status["portal"] or {}).get("name") == portal
    if code != 0:
        assert result.stdout == ""
        assert len(seeded("audit", "-o", "json").json() or []) == audit_before
