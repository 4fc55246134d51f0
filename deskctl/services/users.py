"""CRM users and Desk agents: who is on both sides, invitations with roles, role changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deskctl.errors import NotFound, RuleViolation, ValidationError
from deskctl.models.people import ROLES, Agent, is_last_admin
from deskctl.services.access import integration, require_admin

if TYPE_CHECKING:
    from deskctl.backends.base import Backend, DeskApi
    from deskctl.state import StateStore


class UsersService:
    def __init__(self, backend: Backend, state: StateStore) -> None:
        self.backend = backend
        self.state = state

    def _desk(self) -> DeskApi:
        return self.backend.desk(str(integration(self.state).require_active().portal_id))

    def roster(self) -> list[dict[str, Any]]:
        desk = self._desk()
        agents = {a.email.lower(): a for a in desk.agents()}
        rows = []
        for user in self.backend.crm.users():
            agent = agents.pop(user.email.lower(), None)
            rows.append({"email": user.email, "name": user.name, "crm_profile": user.profile,
                         "desk_status": agent.status if agent else "none",
                         "role": agent.role if agent else None,
                         "both_sides": bool(agent and agent.status == "active")})
        rows += [{"email": a.email, "name": a.name, "crm_profile": None,
                  "desk_status": a.status, "role": a.role, "both_sides": False}
                 for a in agents.values()]
        return rows

    def invite(self, emails: list[str], role: str) -> list[dict[str, Any]]:
        """One result per email: invited | already-invited | already-active | failed."""
        me = require_admin(self.backend, "invite users to Desk")
        _check_role(role)
        desk = self._desk()
        crm_users = {u.email.lower(): u for u in self.backend.crm.users()}
        results = []
        for email in dict.fromkeys(emails):  # each address once, in the given order
            user = crm_users.get(email.lower())
            agent = next((a for a in desk.agents() if a.email.lower() == email.lower()), None)
            if user is None:
                results.append(_outcome(email, "failed", "not a CRM user of this account"))
            elif agent is not None and agent.status == "invited":
                note = "" if agent.role == role else \
                    f"invited as {agent.role}; use 'deskctl users set-role' to change it"
                results.append(_outcome(email, "already-invited", note, agent.role))
            elif agent is not None and agent.status == "active":
                results.append(_outcome(email, "already-active", "already an active agent; use "
                                        "'deskctl users set-role' to change the role",
                                        agent.role))
            elif agent is not None:
                results.append(_outcome(email, "failed", f"the agent is {agent.status} in Desk"))
            else:
                desk.invite_agent(user.email, user.name, role)
                self.state.audit(me.email, "users.invite", user.email, {"role": role})
                results.append(_outcome(user.email, "invited", "invitation sent", role))
        return results

    def set_role(self, email: str, role: str, force: bool = False) -> dict[str, Any]:
        me = require_admin(self.backend, "change Desk roles")
        _check_role(role)
        desk = self._desk()
        agents = desk.agents()
        agent = next((a for a in agents if a.email.lower() == email.lower()), None)
        if agent is None:
            raise NotFound(f"{email} is not an agent of the linked portal; invite them first "
                           "with 'deskctl users invite'")
        refused = demotion_refused(agents, agent, role)
        if refused and not force:
            raise RuleViolation(refused + "; pass --force to demote them anyway")
        if agent.role == role:
            return {"email": agent.email, "role": role, "changed": False}
        desk.set_agent_role(agent.email, role)
        self.state.audit(me.email, "users.set-role", agent.email,
                         {"from": agent.role, "to": role})
        return {"email": agent.email, "role": role, "changed": True, "previous": agent.role}


def demotion_refused(agents: list[Agent], agent: Agent, role: str) -> str | None:
    """Why changing ``agent`` to ``role`` needs --force: it would leave the portal without an
    active Desk admin (nobody could assign or delete tickets or manage agents)."""
    if agent.role == "admin" and role != "admin" and is_last_admin(agents, agent.email):
        return (f"{agent.email} is the portal's only active Desk admin; without one nobody "
                "can assign or delete tickets or change roles")
    return None


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")


def _outcome(email: str, outcome: str, detail: str, role: str | None = None) -> dict[str, Any]:
    return {"email": email, "outcome": outcome, "role": role, "detail": detail}


#: outcomes that make ``users invite`` exit 1 (SPEC §3: a clear error)
INVITE_FAILURES = ("failed", "already-active")
