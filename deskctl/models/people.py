"""CRM users, Desk agents, portals and the Desk roles."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("light-agent", "agent", "admin")
CRM_ADMIN_PROFILE = "Administrator"


@dataclass(frozen=True)
class CrmUser:
    id: str
    email: str
    name: str
    profile: str
    status: str = "active"

    @property
    def is_admin(self) -> bool:
        return self.profile == CRM_ADMIN_PROFILE


@dataclass(frozen=True)
class Agent:
    """A Desk agent of one portal. status: invited | active | deactivated."""

    id: str
    email: str
    name: str
    role: str
    status: str


@dataclass(frozen=True)
class Portal:
    id: str
    name: str
    admin_email: str


def is_last_admin(agents: list[Agent], email: str) -> bool:
    """Is ``email`` the portal's only active Desk admin (so demoting them leaves none)?"""
    admins = [a for a in agents if a.role == "admin" and a.status == "active"]
    return len(admins) == 1 and admins[0].email.lower() == email.lower()
