"""The role matrix of SPEC §3: which Desk role may do what to tickets (pure)."""

from __future__ import annotations

from deskctl.errors import PermissionDenied

NO_DESK = "no-desk-account"  # a CRM user without an active Desk account
AGENTS = frozenset({"agent", "admin"})
ANY_DESK = frozenset({"light-agent", "agent", "admin"})
EVERYONE = ANY_DESK | {NO_DESK}

MATRIX: dict[str, frozenset[str]] = {
    "view": ANY_DESK,  # see tickets in the CRM: users with an active Desk account
    "comment": EVERYONE,
    "reply": AGENTS,
    "forward": AGENTS,
    "create": AGENTS,
    "update": AGENTS,
    "close": AGENTS,
    "link-deal": AGENTS,
    "unlink-deal": AGENTS,
    "assign": frozenset({"admin"}),
    "delete": frozenset({"admin"}),
}
ACTIONS = tuple(MATRIX)


def allowed(role: str, action: str) -> bool:
    return role in MATRIX[action]


def check(role: str, action: str, who: str) -> None:
    """PermissionDenied naming the role unless ``role`` may do ``action``."""
    if not allowed(role, action):
        label = "has no active Desk account" if role == NO_DESK else f"is a Desk {role}"
        may = ", ".join(a for a in ACTIONS if allowed(role, a)) or "nothing"
        raise PermissionDenied(f"permission denied: {who} {label} and may not {action} "
                               f"tickets (allowed: {may})")
