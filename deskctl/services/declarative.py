"""Declarative setup for CI: a YAML file of the desired integration -> a plan of changes
-> apply, through the same services (so every rule holds) and idempotent.

File keys: portal, users, sync, related_lists, signals, desk_tab (examples/integration.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskctl.errors import ConfigError, DeskctlError, NotActive
from deskctl.models.integration import SIGNAL_KINDS, Integration
from deskctl.models.people import ROLES
from deskctl.services.access import integration, require_admin
from deskctl.services.integration import IntegrationService
from deskctl.services.settings import SettingsService, eligibility
from deskctl.services.sync import CONFLICTS, MODES, ON_DELETE, SyncService
from deskctl.services.users import UsersService, demotion_refused
from deskctl.yamlfile import line_of

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.config import Config
    from deskctl.credentials import CredentialStore
    from deskctl.state import StateStore

TOP_KEYS = ("portal", "users", "sync", "related_lists", "signals", "desk_tab")
SYNC_KEYS = ("mode", "conflict", "on_delete", "paused")
PORTAL_KEYS = ("connect", "create", "connect_other")


@dataclass(frozen=True)
class Change:
    item: str  # e.g. "users/sam@x.example"
    action: str  # connect, invite, set-role, configure, pause, enable, disable, set, ...
    before: Any = None
    after: Any = None
    refused: str | None = None  # a rule that forbids it; apply reports it as failed
    args: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {"item": self.item, "action": self.action, "from": self.before,
                "to": self.after}
        if self.refused:
            data["refused"] = self.refused
        return data


def load_desired(path: Path) -> dict[str, Any]:
    """The file, checked: unknown keys and wrong types name the key and line, all at once."""
    from deskctl import yamlfile

    data = yamlfile.load(path, "integration file") or {}
    if str(path) == "-":
        path = Path("<stdin>")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: the top level must be a mapping")
    problems = []

    def where(mapping: Any, key: str, label: str) -> str:
        return f"{path}: {label}{line_of(mapping, key)}"

    def section(key: str, expected: str) -> Mapping[Any, Any]:
        """A top-level mapping ({} when absent; anything else is a problem)."""
        value = data.get(key) or {}
        if isinstance(value, Mapping):
            return value
        problems.append(f"{where(data, key, key)}: {expected}")
        return {}

    for key in data:
        if key not in TOP_KEYS:
            problems.append(f"{where(data, key, str(key))}: unknown key (known: "
                            f"{', '.join(TOP_KEYS)})")
    portal = data.get("portal")
    if isinstance(portal, Mapping):
        if len(portal) != 1 or next(iter(portal)) not in PORTAL_KEYS:
            problems.append(f"{where(data, 'portal', 'portal')}: give a name, or one of "
                            f"{', '.join(PORTAL_KEYS)}")
    elif portal is not None and not isinstance(portal, str):
        problems.append(f"{where(data, 'portal', 'portal')}: expected a portal name")
    users = section("users", "expected EMAIL: ROLE pairs")
    for email, role in users.items():
        if role not in ROLES:
            problems.append(f"{where(users, email, f'users.{email}')}: unknown role {role!r} "
                            f"(roles: {', '.join(ROLES)})")
    sync = section("sync", "expected a mapping")
    choices = {"mode": MODES, "conflict": CONFLICTS, "on_delete": ON_DELETE}
    for key, value in sync.items():
        if key not in SYNC_KEYS:
            problems.append(f"{where(sync, key, f'sync.{key}')}: unknown key")
        elif key == "paused" and not isinstance(value, bool):
            problems.append(f"{where(sync, key, 'sync.paused')}: expected true or false")
        elif key in choices and value not in choices[key]:
            problems.append(f"{where(sync, key, f'sync.{key}')}: expected one of "
                            f"{', '.join(choices[key])}")
    lists = data.get("related_lists")
    if lists is not None and not (isinstance(lists, list)
                                  and all(isinstance(m, str) for m in lists)):
        problems.append(f"{where(data, 'related_lists', 'related_lists')}: expected a list "
                        "of module names")
    signals = section("signals", "expected KIND: true|false")
    for kind, value in signals.items():
        if kind not in SIGNAL_KINDS:
            problems.append(f"{where(signals, kind, f'signals.{kind}')}: unknown signal kind")
        elif not isinstance(value, bool):
            problems.append(f"{where(signals, kind, f'signals.{kind}')}: expected true or "
                            "false")
    tab = data.get("desk_tab")
    if tab is not None and tab not in ("shown", "removed"):
        problems.append(f"{where(data, 'desk_tab', 'desk_tab')}: expected shown or removed")
    if problems:
        raise ConfigError(f"invalid integration file {path}", problems)
    return dict(data)


class DeclarativeService:
    def __init__(self, backend: Backend, state: StateStore, credentials: CredentialStore,
                 config: Config) -> None:
        self.backend = backend
        self.state = state
        self.integration = IntegrationService(backend, state, credentials)
        self.users = UsersService(backend, state)
        self.settings = SettingsService(backend, state)
        self.sync = SyncService(backend, state, config)
        self._desired: dict[Path, dict[str, Any]] = {}

    # planning

    def _portal_changes(self, desired: Any, current: Integration) -> tuple[list[Change],
                                                                           str | None]:
        """Changes for the portal, and the id of the portal that will be linked."""
        if desired is None:
            return [], current.portal_id if current.active else None
        how, ref = ("connect", desired) if isinstance(desired, str) else next(
            iter(desired.items()))
        if how == "connect_other":
            ref = ref.get("admin_email") if isinstance(ref, Mapping) else ref
        target = self._target_portal(how, str(ref))
        if current.active and target is not None and target == current.portal_id:
            return [], target
        if current.active:
            return [Change("portal", how, current.portal_name, str(ref),
                           refused=f"portal {current.portal_name} is linked and only one "
                                   "portal can be linked at a time; switch it with 'deskctl "
                                   "portal switch'")], current.portal_id
        return [Change("portal", how, None, str(ref), args={"ref": str(ref)})], target

    def _target_portal(self, how: str, ref: str) -> str | None:
        if how == "create":
            return next((p.id for p in self.backend.portals() if p.name == ref), None)
        if how == "connect_other":
            current = integration(self.state)
            return current.portal_id if current.portal_admin == ref else None
        return next((p.id for p in self.backend.portals()
                     if ref in (p.id, p.name) or ref.lower() == p.name.lower()), None)

    def desired(self, path: Path) -> dict[str, Any]:
        """The file, read and checked once (``-``: stdin, which can be read only once)."""
        if path not in self._desired:
            self._desired[path] = load_desired(path)
        return self._desired[path]

    def plan(self, path: Path) -> list[Change]:
        require_admin(self.backend, "plan the integration")
        desired = self.desired(path)
        current = integration(self.state)
        changes, portal_id = self._portal_changes(desired.get("portal"), current)
        if not current.active and portal_id is None and not changes:
            raise NotActive("the integration is not active and the file names no portal")
        fresh = current if current.active and portal_id == current.portal_id else Integration()
        changes += self._user_changes(desired.get("users") or {}, portal_id)
        changes += self._sync_changes(desired.get("sync") or {},
                                      self.sync.settings() if fresh.active else None)
        if desired.get("related_lists") is not None:
            changes += self._list_changes(desired["related_lists"], fresh)
        for kind, wanted in (desired.get("signals") or {}).items():
            if fresh.signals.get(kind, True) != wanted:
                changes.append(Change(f"signals/{kind}", "enable" if wanted else "disable",
                                      not wanted, wanted))
        tab = desired.get("desk_tab")
        shown = self.backend.crm.desk_tab_visible() if tab is not None else None
        if tab is not None and (tab == "shown") != shown:
            changes.append(Change("desk_tab", "restore" if tab == "shown" else "remove",
                                  "shown" if shown else "removed", tab))
        return changes

    def _user_changes(self, users: Mapping[str, str], portal_id: str | None) -> list[Change]:
        agents = {a.email.lower(): a for a in self.backend.desk(portal_id).agents()} \
            if portal_id else {}
        crm = {u.email.lower() for u in self.backend.crm.users()}
        changes = []
        for email, role in users.items():
            agent = agents.get(email.lower())
            item = f"users/{email}"
            if agent is None:
                refused = None if email.lower() in crm else "not a CRM user of this account"
                changes.append(Change(item, "invite", None, role, refused))
            elif agent.role != role:
                changes.append(Change(item, "set-role", agent.role, role,
                                      demotion_refused(list(agents.values()), agent, role)))
        return changes

    def _sync_changes(self, wanted: Mapping[str, Any],
                      current: dict[str, Any] | None) -> list[Change]:
        if not wanted:
            return []
        changes = []
        policies = {k: wanted[k] for k in ("mode", "conflict", "on_delete") if k in wanted}
        if current is None:
            if "mode" not in wanted:
                return [Change("sync", "configure", None, policies,
                               refused="sync.mode is needed to enable the sync")]
            changes.append(Change("sync", "configure", None, policies, args=policies))
        else:
            if "mode" in wanted and wanted["mode"] != current["mode"]:
                changes.append(Change("sync/mode", "configure", current["mode"], wanted["mode"],
                                      refused="once enabled, the sync mode can only be paused; "
                                              "deactivate and set up again to change it"))
            differ = {k: v for k, v in policies.items()
                      if k != "mode" and current.get(k) != v}
            if differ:
                changes.append(Change("sync/policies", "configure",
                                      {k: current.get(k) for k in differ}, differ,
                                      args=differ))
        paused = wanted.get("paused")
        if paused is not None and paused != bool((current or {}).get("paused", False)):
            changes.append(Change("sync/paused", "pause" if paused else "resume",
                                  not paused, paused))
        return changes

    def _list_changes(self, wanted: list[str], current: Integration) -> list[Change]:
        modules = {m.api_name.lower(): m for m in self.backend.crm.modules()}
        changes = []
        names = []
        for name in wanted:
            module = modules.get(name.lower())
            if module is None:
                changes.append(Change(f"related_lists/{name}", "enable", False, True,
                                      refused=f"unknown CRM module {name!r}"))
                continue
            names.append(module.api_name)
            ok, why = eligibility(module)
            if module.api_name not in current.related_lists:
                changes.append(Change(f"related_lists/{module.api_name}", "enable", False, True,
                                      None if ok else why))
        for name in current.related_lists:
            if name not in names:
                changes.append(Change(f"related_lists/{name}", "disable", True, False))
        return changes

    # applying

    def apply(self, path: Path, lock_timeout: float = 0.0) -> list[dict[str, Any]]:
        """Make each planned change through the services, under the run lock; a failed item
        does not stop the others. Returns one result per change."""
        from deskctl.services.locking import hold

        with hold(self.state, "apply", lock_timeout):
            changes = self.plan(path)
            return self._apply_all(changes)

    def _apply_all(self, changes: list[Change]) -> list[dict[str, Any]]:
        zsc_key = self.integration.credentials.get("zsc_key")
        results = []
        for change in changes:
            outcome, detail = "done", ""
            try:
                if change.refused:
                    raise DeskctlError(change.refused)
                self._apply_one(change, zsc_key)
            except DeskctlError as exc:
                outcome, detail = "failed", exc.message
            results.append({**change.to_dict(), "outcome": outcome, "detail": detail})
        return results

    def _apply_one(self, change: Change, zsc_key: str | None) -> None:
        item, action, after = change.item, change.action, change.after
        if item == "portal":
            if action == "connect":
                self.integration.connect(change.args["ref"])
            elif action == "create":
                self.integration.create(change.args["ref"])
            else:
                if not zsc_key:
                    raise DeskctlError("connect_other needs the ZSC key in DESKCTL_ZSC_KEY or "
                                       "the keyring")
                self.integration.connect_other(change.args["ref"], zsc_key)
        elif item.startswith("users/"):
            email = item.split("/", 1)[1]
            if action == "invite":
                [result] = self.users.invite([email], str(after))
                if result["outcome"] == "failed":
                    raise DeskctlError(result["detail"])
            else:
                self.users.set_role(email, str(after))
        elif item.startswith("sync"):
            if action == "configure":
                self.sync.configure(change.args.get("mode"), change.args.get("conflict"),
                                    change.args.get("on_delete"))
            else:
                self.sync.set_paused(action == "pause")
        elif item.startswith("related_lists/"):
            self.settings.set_related_list(item.split("/", 1)[1], action == "enable")
        elif item.startswith("signals/"):
            kind = item.split("/", 1)[1]
            self.settings.configure_signals([kind] if after else [], [] if after else [kind])
        elif item == "desk_tab":
            self.settings.set_tab(after == "shown")
