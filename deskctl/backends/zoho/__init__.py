"""The zoho backend: the real Zoho CRM v8 and Zoho Desk v1 REST APIs behind the backend
interface. Only this package imports requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deskctl.backends.base import Backend
from deskctl.backends.meter import CallMeter
from deskctl.backends.zoho.crm import ZohoCrm
from deskctl.backends.zoho.desk import ZohoDesk
from deskctl.backends.zoho.http import ZohoHttp
from deskctl.backends.zoho.settings import ZohoSettings
from deskctl.errors import Unsupported, UsageError
from deskctl.models.people import Portal

if TYPE_CHECKING:
    from deskctl.backends.zoho.auth import TokenProvider


class ZohoBackend(Backend):
    name = "zoho"
    # ratings: GET /customerHappiness; ticket history: GET /tickets/{id}/History; Desk
    # deletions: GET /recycleBin (DeskAPIDocument); the others have no public API
    capabilities: frozenset[str] = frozenset({"ratings", "ticket-history", "desk-tombstones"})

    def __init__(self, settings: ZohoSettings, tokens: TokenProvider) -> None:
        self.settings = settings
        self.tokens = tokens
        meter = CallMeter()  # every API request of this backend, CRM and Desk
        self._crm = ZohoCrm(ZohoHttp(settings.crm_url + "/crm/v8", tokens, settings,
                                     meter=meter, api_path="/crm/v8"
                                     if settings.follow_api_domain else None),
                            settings.crm_triggers)
        self.desk_http = ZohoHttp(settings.desk_url + "/api/v1", tokens, settings, meter=meter,
                                  service="desk")
        # one per portal for the command, so its field metadata and From addresses are read
        # once, not again by every service that asks for the portal
        self._desks: dict[str, ZohoDesk] = {}

    @property
    def crm(self) -> ZohoCrm:
        return self._crm

    def check_acting_user(self, email: str) -> None:
        """Zoho's APIs act as the owner of the credentials; acting as anyone else cannot be
        done, so asking for it is an error, never silently ignored."""
        owner = self.crm.current_user().email
        if email.strip().lower() != owner.lower():
            raise UsageError(f"--as {email}: on the zoho backend every call acts as the "
                             f"owner of the credentials ({owner}); store another user's "
                             "refresh token (in another profile) to act as them")

    def portals(self) -> list[Portal]:
        body = self.desk_http.request("GET", "/organizations") or {}
        return [Portal(str(org["id"]), str(org.get("portalName") or org.get("companyName")),
                       str(org.get("primaryContact") or ""))
                for org in body.get("data", []) if org.get("isAdminInOrg", True)]

    def create_portal(self, name: str) -> Portal:
        raise Unsupported("Zoho's public APIs cannot create a Desk portal: create it in the "
                          "CRM (Setup > Marketplace > Zoho > Zoho Desk, enter a portal name), "
                          "then run 'deskctl portal connect NAME'")

    def portal_for_zsc_key(self, admin_email: str, zsc_key: str) -> Portal:
        raise Unsupported("Zoho has no public API to check a ZSC key: link another user's "
                          "portal in the CRM (Setup > Marketplace > Zoho > Zoho Desk > "
                          "Configure another user's portal)")

    def desk(self, portal_id: str) -> ZohoDesk:
        if portal_id not in self._desks:
            self._desks[portal_id] = ZohoDesk(self.desk_http.for_org(portal_id), portal_id,
                                              self.settings)
        return self._desks[portal_id]

    def close(self) -> None:
        self.crm.http.close()
        self.desk_http.close()
