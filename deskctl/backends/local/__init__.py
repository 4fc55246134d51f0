"""The embedded local backend: a simulated Zoho CRM and Zoho Desk in one SQLite file."""

from __future__ import annotations

import copy
import secrets
from pathlib import Path
from typing import Any

from deskctl import clock
from deskctl.backends.base import Backend
from deskctl.backends.local.crm import LocalCrm
from deskctl.backends.local.db import SandboxDb
from deskctl.backends.local.desk import LocalDesk
from deskctl.errors import AuthError, NotFound, ValidationError
from deskctl.models.people import Portal


class LocalBackend(Backend):
    name = "local"

    def __init__(self, path: Path, acting_email: str | None = None) -> None:
        self.db = SandboxDb(Path(path))
        self.fine = True  # the facets' times: fine (LocalCrm) or Zoho's whole seconds
        self._crm = LocalCrm(self.db, acting_email)

    def whole_seconds(self) -> LocalBackend:
        """This sandbox (the same file and connection) with Zoho's whole-second times: what
        the emulator serves (docs/reads.md)."""
        view = copy.copy(self)
        view.fine = False
        view._crm = LocalCrm(self.db, self._crm.acting_email, fine=False)
        return view

    @property
    def crm(self) -> LocalCrm:
        return self._crm

    def all_portals(self) -> list[Portal]:
        rows = self.db.conn.execute("SELECT * FROM portals ORDER BY rowid").fetchall()
        return [Portal(r["id"], r["name"], r["admin_email"]) for r in rows]

    def portals(self) -> list[Portal]:
        me = self.crm.current_user().email.lower()
        return [p for p in self.all_portals() if p.admin_email.lower() == me
                or self._is_portal_admin(p.id, me)]

    def _is_portal_admin(self, portal_id: str, email: str) -> bool:
        return self.db.conn.execute(
            "SELECT 1 FROM agents WHERE portal_id = ? AND email = ? AND role = 'admin' "
            "AND status = 'active'", (portal_id, email)).fetchone() is not None

    def add_portal(self, name: str, admin_email: str, admin_name: str) -> Portal:
        """A portal with its admin as an active admin agent and one department."""
        name = name.strip()
        if not name or len(name) > 50 or not all(c.isalnum() or c in " -_" for c in name):
            raise ValidationError(f"invalid portal name {name!r} (letters, digits, spaces, "
                                  "'-' and '_', at most 50 characters)")
        if any(p.name.lower() == name.lower() for p in self.all_portals()):
            raise ValidationError(f"a portal named {name!r} already exists")
        with self.db.transaction() as conn:
            portal_id = self.db.new_id("desk")
            now = clock.now_iso()
            conn.execute("INSERT INTO portals VALUES (?, ?, ?, ?, ?)",
                         (portal_id, name, admin_email, "zsc-" + secrets.token_hex(12), now))
            conn.execute("INSERT INTO agents (id, portal_id, email, name, role, status, "
                         "invited_time, activated_time) VALUES (?, ?, ?, ?, 'admin', 'active', "
                         "?, ?)", (self.db.new_id("desk"), portal_id, admin_email, admin_name,
                                   now, now))
            department_id = self.db.new_id("desk")
            conn.execute("INSERT INTO departments VALUES (?, ?, ?)",
                         (department_id, portal_id, "Support"))
            slug = name.lower().replace(" ", "-").replace("_", "-")
            conn.execute("INSERT INTO from_addresses (id, department_id, address, "
                         "display_name, created_time) VALUES (?, ?, ?, ?, ?)",
                         (self.db.new_id("desk"), department_id, f"support@{slug}.example",
                          "Support", now))
        return Portal(portal_id, name, admin_email)

    def create_portal(self, name: str) -> Portal:
        me = self.crm.current_user()
        return self.add_portal(name, me.email, me.name)

    def portal_for_zsc_key(self, admin_email: str, zsc_key: str) -> Portal:
        row = self.db.conn.execute("SELECT * FROM portals WHERE admin_email = ?",
                                   (admin_email,)).fetchone()
        if row is None:
            raise NotFound(f"no Desk portal is administered by {admin_email}")
        if not secrets.compare_digest(row["zsc_key"], zsc_key.strip()):
            raise AuthError(f"the ZSC key does not match the portal of {admin_email}")
        return Portal(row["id"], row["name"], row["admin_email"])

    def sandbox_info(self) -> dict[str, Any]:
        conn = self.db.conn
        portals = [{"id": r["id"], "name": r["name"], "admin": r["admin_email"],
                    "zsc_key": r["zsc_key"],
                    "agents": conn.execute("SELECT count(*) FROM agents WHERE portal_id = ?",
                                           (r["id"],)).fetchone()[0]}
                   for r in conn.execute("SELECT * FROM portals ORDER BY rowid")]
        crm = {r["kind"]: r["n"] for r in conn.execute(
            "SELECT kind, count(*) AS n FROM records WHERE scope = 'crm' GROUP BY kind")}
        desk = {r["kind"]: r["n"] for r in conn.execute(
            "SELECT kind, count(*) AS n FROM records WHERE scope != 'crm' GROUP BY kind")}
        return {"path": str(self.db.path), "owner": self.db.meta("owner"),
                "crm_users": [{"email": u.email, "name": u.name, "profile": u.profile}
                              for u in self.crm.users()],
                "crm_records": crm, "desk_records": desk, "portals": portals}

    def outbox(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM outbox ORDER BY id DESC" + (" LIMIT ?" if limit else "")
        rows = self.db.conn.execute(sql, (limit,) if limit else ()).fetchall()
        return [{"id": r["id"], "sent": r["sent_time"], "from": r["from_email"] or "",
                 "to": r["to_email"], "cc": r["cc"], "subject": r["subject"],
                 "body": r["body"]} for r in rows]

    def desk(self, portal_id: str) -> LocalDesk:
        return LocalDesk(self.db, portal_id, self.fine)

    def close(self) -> None:
        self.db.close()
