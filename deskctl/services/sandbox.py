"""The local backend's sandbox: fill it, inspect it, and act as the outside world (CRM users
editing records, Desk customers replying and rating, invitees accepting)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deskctl.errors import NotFound, RuleViolation, Unsupported, UsageError, ValidationError
from deskctl.models.integration import Integration
from deskctl.models.records import coerce_text
from deskctl.services.locking import exclusive

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.progress import Progress
    from deskctl.state import StateStore

ACTOR = "sandbox"


class SandboxService:
    def __init__(self, backend: Backend, state: StateStore) -> None:
        from deskctl.backends.local import LocalBackend

        if not isinstance(backend, LocalBackend):
            raise Unsupported(f"sandbox commands need the local backend, not {backend.name!r}")
        self.backend: LocalBackend = backend
        self.state = state

    # filling and inspecting

    def seed(self, random_seed: int, messy: bool = False, force: bool = False,
             progress: Progress | None = None, **counts: int) -> dict[str, int]:
        from deskctl.backends.local.seed import MAX_COUNT, SeedCounts, seed

        for name, value in counts.items():
            if value < 0:
                raise ValidationError(f"--{name} must not be negative")
            if value > MAX_COUNT and not force:
                raise UsageError(f"--{name} {value:,} is more than {MAX_COUNT:,}; add --force "
                                 "if you mean it (it needs disk space and time)")
        added = seed(self.backend, SeedCounts(**counts), random_seed, messy, progress)
        self.state.audit(ACTOR, "sandbox.seed", str(self.backend.db.path),
                         {"random_seed": random_seed, "messy": messy, "added": added})
        return added

    @exclusive("sandbox reset")
    def reset(self) -> str:
        """Delete the sandbox file and this profile's integration state (the audit log stays)."""
        path = self.backend.db.path
        self.backend.close()
        for suffix in ("", "-wal", "-shm"):
            candidate = path.with_name(path.name + suffix)
            if candidate.exists():
                candidate.unlink()
        self.state.reset_integration()
        self.state.audit(ACTOR, "sandbox.reset", str(path))
        return str(path)

    def info(self) -> dict[str, Any]:
        return self.backend.sandbox_info()

    def outbox(self, limit: int | None = None) -> list[dict[str, Any]]:
        return self.backend.outbox(limit)

    # the outside world

    def portal_id(self, portal: str | None) -> str:
        """A portal by name or id; default: the linked portal, else the first one."""
        portals = self.backend.all_portals()
        if portal:
            for p in portals:
                if portal in (p.id, p.name) or p.name.lower() == portal.lower():
                    return p.id
            raise NotFound(f"no sandbox portal {portal!r} (portals: "
                           f"{', '.join(p.name for p in portals) or 'none; run sandbox seed'})")
        linked = Integration.from_dict(self.state.get("integration"))
        if linked.active and linked.portal_id:
            return linked.portal_id
        if not portals:
            raise NotFound("the sandbox has no portals yet: run 'deskctl sandbox seed' first")
        return portals[0].id

    def accept(self, email: str, portal: str | None) -> dict[str, Any]:
        desk = self.backend.desk(self.portal_id(portal))
        agent = desk.agent(email)
        if agent is None:
            raise NotFound(f"{email} has no invitation to this portal")
        if agent.status != "invited":
            raise RuleViolation(f"{email} is already {agent.status}")
        desk.activate_agent(agent.id)
        self.state.audit(ACTOR, "sandbox.accept", email)
        return {"email": email, "status": "active", "role": agent.role}

    def crm_list(self, module: str, limit: int | None) -> list[dict[str, Any]]:
        rows = [r.to_dict() for r in self.backend.crm.list_records(module)]
        return rows[-limit:] if limit else rows

    def crm_write(self, action: str, module: str, record_id: str | None,
                  fields: dict[str, str]) -> dict[str, Any]:
        from deskctl.backends.local.crm import raise_first

        crm = self.backend.crm
        meta = crm.module(module)
        data = {k: coerce_text(meta.field(k), v) for k, v in fields.items()}
        if action == "create":
            record_id = raise_first(crm.create_records(meta.api_name, [data]))
        elif action == "update":
            raise_first(crm.update_records(meta.api_name, [(str(record_id), data)]))
        else:
            raise_first(crm.delete_records(meta.api_name, [str(record_id)]))
            self.state.audit(ACTOR, f"sandbox.crm.{action}", f"{meta.api_name}/{record_id}")
            return {"id": record_id, "deleted": True}
        self.state.audit(ACTOR, f"sandbox.crm.{action}", f"{meta.api_name}/{record_id}",
                         {"fields": sorted(data)})
        return crm.get_record(meta.api_name, str(record_id)).to_dict()

    def desk_list(self, kind: str, portal: str | None, limit: int | None) -> list[dict[str, Any]]:
        rows = [r.to_dict() for r in self.backend.desk(self.portal_id(portal)).list_records(kind)]
        return rows[-limit:] if limit else rows

    def desk_write(self, action: str, kind: str, record_id: str | None, fields: dict[str, str],
                   portal: str | None) -> dict[str, Any]:
        desk = self.backend.desk(self.portal_id(portal))
        meta = desk.fields(kind)
        data = {k: coerce_text(meta.field(k), v) for k, v in fields.items()}
        if action == "create" and kind == "tickets" and "departmentId" not in data:
            data["departmentId"] = desk.departments()[0]["id"]
        if action == "create":
            record = desk.create_record(kind, data)
        elif action == "update":
            record = desk.update_record(kind, str(record_id), data)
        else:
            desk.delete_record(kind, str(record_id))
            self.state.audit(ACTOR, f"sandbox.desk.{action}", f"{kind}/{record_id}")
            return {"id": record_id, "deleted": True}
        self.state.audit(ACTOR, f"sandbox.desk.{action}", f"{kind}/{record.id}",
                         {"fields": sorted(data)})
        return record.to_dict()

    def customer(self, action: str, ticket_id: str, value: str,
                 portal: str | None) -> dict[str, Any]:
        """A customer replies, comments or rates (good|okay|bad) a ticket."""
        desk = self.backend.desk(self.portal_id(portal))
        kind, data = {"reply": ("customer-reply", {"content": value}),
                      "comment": ("customer-comment", {"content": value}),
                      "rate": ("rating", {"rating": value})}[action]
        ticket = desk.get_record("tickets", ticket_id)
        contact = desk.get_record("contacts", ticket.data["contactId"])
        event = desk.add_ticket_event(ticket_id, kind, contact.data.get("email") or "customer",
                                      data)
        self.state.audit(ACTOR, f"sandbox.customer.{action}", f"tickets/{ticket_id}")
        return event.to_dict()
