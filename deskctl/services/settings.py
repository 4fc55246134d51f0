"""Integration settings an admin changes: related-list modules, signal kinds, the Desk tab."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from deskctl.errors import RuleViolation
from deskctl.models.integration import LINKED_THROUGH_CONTACTS, Integration
from deskctl.models.records import ModuleMeta
from deskctl.services.access import integration, require_admin, save
from deskctl.services.locking import exclusive

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.state import StateStore


def eligibility(module: ModuleMeta) -> tuple[bool, str]:
    """Can the module show tickets? Only through an enabled email field, or (Accounts,
    Deals) through the contacts and deal links tickets already have."""
    if module.api_name in LINKED_THROUGH_CONTACTS:
        return True, "through its contacts" + (" and deal links" if module.api_name == "Deals"
                                               else "")
    if module.email_fields:
        return True, "email field " + ", ".join(f.api_name for f in module.email_fields)
    return False, f"{module.api_name} has no enabled email field"


class SettingsService:
    def __init__(self, backend: Backend, state: StateStore) -> None:
        self.backend = backend
        self.state = state

    def _admin_active(self, action: str) -> tuple[str, Integration]:
        me = require_admin(self.backend, action)
        return me.email, integration(self.state).require_active()

    # related lists

    def related_lists(self) -> list[dict[str, Any]]:
        _me, current = self._admin_active("manage related lists")
        rows = []
        for module in self.backend.crm.modules():
            ok, how = eligibility(module)
            rows.append({"module": module.api_name,
                         "enabled": module.api_name in current.related_lists,
                         "email_field": ", ".join(f.api_name for f in module.email_fields) or None,
                         "eligible": ok, "tickets_through": how if ok else None})
        return rows

    @exclusive("related-list enable/disable")
    def set_related_list(self, name: str, enabled: bool) -> dict[str, Any]:
        me, current = self._admin_active("manage related lists")
        module = self.backend.crm.module(name)
        if enabled:
            ok, why = eligibility(module)
            if not ok:
                raise RuleViolation(f"cannot show tickets in {module.api_name}: {why} (only "
                                    "modules with an enabled email field can be enabled)")
        modules = list(current.related_lists)
        if (module.api_name in modules) == enabled:
            return {"module": module.api_name, "enabled": enabled, "changed": False}
        modules = modules + [module.api_name] if enabled else \
            [m for m in modules if m != module.api_name]
        with self.state.transaction():
            save(self.state, replace(current, related_lists=tuple(modules)))
            self.state.audit(me, "related-list." + ("enable" if enabled else "disable"),
                             module.api_name)
        return {"module": module.api_name, "enabled": enabled, "changed": True}

    # signals

    @exclusive("signals configure")
    def configure_signals(self, enable: list[str], disable: list[str]) -> dict[str, bool]:
        me, current = self._admin_active("configure signals")
        updated = current.with_signals(enable, disable)
        if updated.signals != current.signals:
            with self.state.transaction():
                save(self.state, updated)
                self.state.audit(me, "signals.configure", "",
                                 {"enable": sorted(enable), "disable": sorted(disable)})
        return updated.signals

    # Desk tab

    def tab_status(self) -> dict[str, Any]:
        self._admin_active("manage the Desk tab")
        visible = self.backend.crm.desk_tab_visible()
        desk = self.backend.desk(str(integration(self.state).portal_id))
        active = {a.email.lower() for a in desk.agents() if a.status == "active"}
        shown_to = [u.email for u in self.backend.crm.users() if u.email.lower() in active]
        return {"desk_tab": "shown" if visible else "removed",
                "shown_to": shown_to if visible else []}

    @exclusive("tab remove/restore")
    def set_tab(self, visible: bool) -> dict[str, Any]:
        me, _current = self._admin_active("manage the Desk tab")
        changed = self.backend.crm.desk_tab_visible() != visible
        if changed:
            self.backend.crm.set_desk_tab(visible)
            self.state.audit(me, "tab." + ("restore" if visible else "remove"), "desk tab")
        return {**self.tab_status(), "changed": changed}
