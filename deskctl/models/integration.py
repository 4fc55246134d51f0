"""The integration's lifecycle and settings (pure rules, no I/O).

not-set-up --link--> active --switch--> active --deactivate--> deactivated --link--> active
Only one portal is linked at a time; linking another needs ``switch``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from deskctl.errors import NotActive, RuleViolation
from deskctl.models.people import Portal

NOT_SET_UP, ACTIVE, DEACTIVATED = "not-set-up", "active", "deactivated"
LINK_ACTIONS = ("connect", "create", "connect-other")
SIGNAL_KINDS = ("new-ticket", "new-comment", "new-reply", "ticket-overdue", "ticket-escalated",
                "new-rating")
DEFAULT_RELATED_LISTS = ("Accounts", "Contacts", "Deals")
#: modules whose tickets come through contacts or deal links, not an email field of their own
LINKED_THROUGH_CONTACTS = ("Accounts", "Deals")
SWITCH_UNLINKS = ("Leads", "Contacts", "Accounts")


@dataclass(frozen=True)
class Integration:
    status: str = NOT_SET_UP
    portal_id: str | None = None
    portal_name: str | None = None
    portal_admin: str | None = None
    how: str | None = None  # own | new | other
    set_up_by: str | None = None
    set_up_at: str | None = None
    credentials_owner: str | None = None
    related_lists: tuple[str, ...] = DEFAULT_RELATED_LISTS
    signals: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(SIGNAL_KINDS, True))

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["related_lists"] = list(self.related_lists)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Integration:
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "related_lists" in known:
            known["related_lists"] = tuple(known["related_lists"])
        if "signals" in known:
            known["signals"] = {**dict.fromkeys(SIGNAL_KINDS, True), **known["signals"]}
        return cls(**known)

    def require_active(self) -> Integration:
        if not self.active:
            raise NotActive()
        return self

    def check_link(self, action: str, portal_id: str) -> bool:
        """May ``action`` link ``portal_id`` now? False when it is already linked (no-op)."""
        if action == "switch":
            self.require_active()
            if portal_id == self.portal_id:
                raise RuleViolation(f"portal {self.portal_name} is already linked; nothing "
                                    "to switch")
            return True
        if action not in LINK_ACTIONS:
            raise ValueError(action)
        if self.active:
            if portal_id == self.portal_id:
                return False
            raise RuleViolation(f"portal {self.portal_name} is already linked and only one "
                                "portal can be linked at a time; use 'deskctl portal switch' "
                                "to link another")
        return True

    def linked(self, portal: Portal, how: str, by: str, at: str) -> Integration:
        """A new setup starts over: settings return to their defaults."""
        return Integration(status=ACTIVE, portal_id=portal.id, portal_name=portal.name,
                           portal_admin=portal.admin_email, how=how, set_up_by=by, set_up_at=at,
                           credentials_owner=by)

    def switched(self, portal: Portal) -> Integration:
        return replace(self, portal_id=portal.id, portal_name=portal.name,
                       portal_admin=portal.admin_email, how="own")

    def reauthorised(self, owner: str) -> Integration:
        return replace(self, credentials_owner=owner)

    def deactivated(self) -> Integration:
        self.require_active()
        return Integration(status=DEACTIVATED)

    def with_signals(self, enable: list[str], disable: list[str]) -> Integration:
        unknown = sorted(set(enable + disable) - set(SIGNAL_KINDS))
        if unknown:
            raise RuleViolation(f"unknown signal kind {', '.join(unknown)} "
                                f"(kinds: {', '.join(SIGNAL_KINDS)})")
        both = sorted(set(enable) & set(disable))
        if both:
            raise RuleViolation(f"{', '.join(both)} cannot be enabled and disabled at once")
        signals = {**self.signals, **dict.fromkeys(enable, True), **dict.fromkeys(disable, False)}
        return replace(self, signals=signals)
