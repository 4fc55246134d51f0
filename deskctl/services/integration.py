"""Linking a Desk portal (own, new, another user's), switching it, the integration's
status, deactivation and re-authorisation. Admin only; one portal at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deskctl import clock
from deskctl.errors import AuthError, NotFound, Unsupported, ValidationError
from deskctl.models.integration import SIGNAL_KINDS, SWITCH_UNLINKS
from deskctl.models.people import CrmUser, Portal
from deskctl.models.records import EMAIL_RE
from deskctl.services.access import integration, require_admin, save
from deskctl.services.locking import exclusive
from deskctl.services.relations import TicketRelations
from deskctl.state.sync import SyncStore

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.credentials import CredentialStore
    from deskctl.state import StateStore


class IntegrationService:
    def __init__(self, backend: Backend, state: StateStore,
                 credentials: CredentialStore) -> None:
        self.backend = backend
        self.state = state
        self.sync = SyncStore(state)
        self.credentials = credentials

    def _find(self, ref: str) -> Portal:
        portals = self.backend.portals()
        for portal in portals:
            if ref == portal.id or ref.lower() == portal.name.lower():
                return portal
        names = ", ".join(p.name for p in portals) or "none"
        raise NotFound(f"no portal {ref!r} among the portals you administer ({names}); for "
                       "another user's portal use 'deskctl portal connect-other'")

    def _link(self, portal: Portal, how: str, action: str, by: str) -> dict[str, Any]:
        current = integration(self.state)
        if not current.check_link(action, portal.id):
            return {"portal": portal.name, "id": portal.id, "changed": False}
        with self.state.transaction():
            save(self.state, current.linked(portal, how, by, clock.now_iso()))
            self.state.audit(by, f"portal.{action}", portal.name, {"portal_id": portal.id})
        return {"portal": portal.name, "id": portal.id, "changed": True}

    # portals

    def portals(self) -> list[dict[str, Any]]:
        require_admin(self.backend, "list Desk portals")
        linked = integration(self.state)
        return [{"id": p.id, "name": p.name, "admin": p.admin_email,
                 "linked": linked.active and p.id == linked.portal_id}
                for p in self.backend.portals()]

    @exclusive("portal connect")
    def connect(self, ref: str) -> dict[str, Any]:
        me = require_admin(self.backend, "link a Desk portal")
        current = integration(self.state)
        if current.active and ref.lower() in (current.portal_id, str(current.portal_name).lower()):
            ref = str(current.portal_id)
        current.check_link("connect", ref)  # the one-portal rule comes before any lookup
        return self._link(self._find(ref), "own", "connect", me.email)

    @exclusive("portal create")
    def create(self, name: str) -> dict[str, Any]:
        me = require_admin(self.backend, "create a Desk portal")
        integration(self.state).check_link("create", "")  # refuse before creating anything
        portal = self.backend.create_portal(name)
        return self._link(portal, "new", "create", me.email)

    @exclusive("portal connect-other")
    def connect_other(self, admin_email: str, zsc_key: str) -> dict[str, Any]:
        me = require_admin(self.backend, "link another user's Desk portal")
        if not EMAIL_RE.match(admin_email):
            raise ValidationError(f"invalid email address {admin_email!r}")
        portal = self.backend.portal_for_zsc_key(admin_email, zsc_key)
        result = self._link(portal, "other", "connect-other", me.email)
        result["zsc_key_stored"] = self._store_key(zsc_key)
        return result

    def _store_key(self, zsc_key: str) -> bool:
        """Keep the key in the keyring only; False when there is none (env must provide it)."""
        try:
            self.credentials.set("zsc_key", zsc_key)
        except AuthError:
            return False
        return True

    def switch(self, ref: str, yes: bool) -> dict[str, Any]:
        """Without ``yes`` only what would be unlinked; with it, the switch, decided and
        made under the run lock (a sync in progress finishes on the old portal first)."""
        return self._switch(ref) if yes else self._switch_plan(ref)[0]

    def _switch_plan(self, ref: str) -> tuple[dict[str, Any], Portal, CrmUser]:
        me = require_admin(self.backend, "switch the Desk portal")
        current = integration(self.state).require_active()
        target = self._find(ref)
        current.check_link("switch", target.id)
        relations = TicketRelations(self.backend.crm,
                                    self.backend.desk(str(current.portal_id)),
                                    {m: self.sync.pair_map(m) for m in SWITCH_UNLINKS})
        pairs = self.sync.link_counts()
        unlinks = []
        for module in SWITCH_UNLINKS:
            records, tickets = relations.associations(module)
            unlinks.append({"module": module, "records_with_tickets": records,
                            "ticket_associations": tickets, "synced_pairs": pairs.get(module, 0)})
        return {"from": current.portal_name, "to": target.name, "unlinks": unlinks,
                "changed": False}, target, me

    @exclusive("portal switch")
    def _switch(self, ref: str) -> dict[str, Any]:
        result, target, me = self._switch_plan(ref)
        current = integration(self.state)
        with self.state.transaction():
            self.sync.forget_links(SWITCH_UNLINKS)
            save(self.state, current.switched(target))
            self.state.audit(me.email, "portal.switch", target.name,
                             {"from": current.portal_name, "unlinked": result["unlinks"]})
        result["changed"] = True
        return result

    # the integration as a whole

    def status(self) -> dict[str, Any]:
        """The documented, stable shape of ``integration status -o json``."""
        current = integration(self.state)
        sync = self.state.get("sync")
        last_run = self.sync.last_sync_run()
        tab = None
        if current.active:
            try:
                tab = "shown" if self.backend.crm.desk_tab_visible() else "removed"
            except Unsupported:
                tab = "unknown"
        return {
            "state": current.status,
            "portal": ({"id": current.portal_id, "name": current.portal_name,
                        "linked_as": current.how} if current.active else None),
            "set_up_by": current.set_up_by,
            "set_up_at": current.set_up_at,
            "credentials_owner": current.credentials_owner,
            "sync": {"mode": sync["mode"], "state": "paused" if sync.get("paused") else "active",
                     "conflict": sync["conflict"], "on_delete": sync["on_delete"]}
            if sync else {"mode": None, "state": "not-configured", "conflict": None,
                          "on_delete": None},
            "related_lists": list(current.related_lists) if current.active else [],
            "signals": {k: current.signals[k] for k in SIGNAL_KINDS} if current.active else {},
            "desk_tab": tab,
            "last_sync": last_run,
        }

    def deactivate(self, yes: bool) -> dict[str, Any]:
        """Without ``yes`` only what would be forgotten; with it, under the run lock."""
        return self._deactivate() if yes else self._deactivation()[0]

    def _deactivation(self) -> tuple[dict[str, Any], CrmUser]:
        me = require_admin(self.backend, "deactivate the integration")
        current = integration(self.state).require_active()
        pairs = sum(self.sync.link_counts().values())
        return {"portal": current.portal_name, "synced_pairs_forgotten": pairs,
                "changed": False}, me

    @exclusive("integration deactivate")
    def _deactivate(self) -> dict[str, Any]:
        result, me = self._deactivation()
        current = integration(self.state)
        with self.state.transaction():
            self.state.reset_integration()
            save(self.state, current.deactivated())
            self.state.audit(me.email, "integration.deactivate", str(current.portal_name),
                             {"pairs_forgotten": result["synced_pairs_forgotten"]})
        if current.how == "other":
            self.credentials.clear("zsc_key")
        result["changed"] = True
        return result

    @exclusive("integration reauth")
    def reauth(self, zsc_key: str | None) -> dict[str, Any]:
        """Make the acting admin the integration's credentials owner, keeping every setting
        and mapping; they must reach the linked portal (with its ZSC key if another's)."""
        me = require_admin(self.backend, "re-authorise the integration")
        current = integration(self.state).require_active()
        if current.how == "other":
            key = zsc_key or self.credentials.get("zsc_key")
            if not key:
                raise ValidationError("this portal was linked with a ZSC key: pass it with "
                                      "--zsc-key-stdin or DESKCTL_ZSC_KEY")
            portal: Portal | None = self.backend.portal_for_zsc_key(str(current.portal_admin),
                                                                    key)
        else:
            portal = next((p for p in self.backend.portals() if p.id == current.portal_id),
                          None)
        if portal is None or portal.id != current.portal_id:
            raise ValidationError(f"{me.email} cannot reach the linked portal "
                                  f"{current.portal_name}; re-authorise as one of its admins")
        with self.state.transaction():
            save(self.state, current.reauthorised(me.email))
            self.state.audit(me.email, "integration.reauth", str(current.portal_name),
                             {"previous_owner": current.credentials_owner})
        if zsc_key:
            self._store_key(zsc_key)
        return {"portal": current.portal_name, "credentials_owner": me.email,
                "previous_owner": current.credentials_owner}
