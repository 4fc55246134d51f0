"""Where the zoho backend connects: hosts per data center, URL overrides, limits."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from deskctl.errors import ConfigError

if TYPE_CHECKING:
    from deskctl.config import Config

# data center -> (CRM API host, Desk host, accounts server); Canada uses zohocloud.ca.
# Sources: zoho.com/crm/developer/docs/api/v8/multi-dc.html and
# zoho.com/accounts/protocol/oauth/multi-dc.html (UK: accounts.zoho.uk, www.zohoapis.uk);
# the UK Desk host follows Desk's desk.zoho.<domain> pattern (zoho.desk_url overrides it).
DATA_CENTERS: dict[str, tuple[str, str, str]] = {
    "com": ("https://www.zohoapis.com", "https://desk.zoho.com", "https://accounts.zoho.com"),
    "eu": ("https://www.zohoapis.eu", "https://desk.zoho.eu", "https://accounts.zoho.eu"),
    "in": ("https://www.zohoapis.in", "https://desk.zoho.in", "https://accounts.zoho.in"),
    "com.au": ("https://www.zohoapis.com.au", "https://desk.zoho.com.au",
               "https://accounts.zoho.com.au"),
    "jp": ("https://www.zohoapis.jp", "https://desk.zoho.jp", "https://accounts.zoho.jp"),
    "ca": ("https://www.zohoapis.ca", "https://desk.zohocloud.ca",
           "https://accounts.zohocloud.ca"),
    "sa": ("https://www.zohoapis.sa", "https://desk.zoho.sa", "https://accounts.zoho.sa"),
    "com.cn": ("https://www.zohoapis.com.cn", "https://desk.zoho.com.cn",
               "https://accounts.zoho.com.cn"),
    "uk": ("https://www.zohoapis.uk", "https://desk.zoho.uk", "https://accounts.zoho.uk"),
}
#: concurrent Desk calls per edition, per portal (Zoho's published limits: DeskAPIDocument
#: "API credits"); Zoho's own CRM integration and extensions share them
EDITION_CONCURRENCY = {"free": 5, "express": 10, "standard": 10, "professional": 15,
                       "enterprise": 25}
#: concurrent CRM calls: Zoho counts them per org and per connected app, Free 5, Standard
#: 10, Professional 15, Enterprise 20, Ultimate 25 (Zoho's developer post "Kaizen #203" on
#: API limits, help.zoho.com/portal/en/community); deskctl is its own app, so nothing else
#: shares it, but the CRM's edition is not configured: the lowest edition's limit holds in
#: every org (a sync has a few CRM calls in flight at most: module reads, one write batch).
CRM_CONCURRENCY = 5


def _checked_url(name: str, url: str) -> str:
    """https anywhere; plain http only to a loopback address (tests, the emulator)."""
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        return url.rstrip("/")
    if parsed.scheme == "http" and parsed.hostname:
        host = parsed.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return url.rstrip("/")
        raise ConfigError(f"zoho.{name}: plain http is allowed only for loopback addresses, "
                          f"not {host}")
    raise ConfigError(f"zoho.{name}: not an http(s) URL: {url!r}")


@dataclass(frozen=True)
class ZohoSettings:
    data_center: str
    crm_url: str
    desk_url: str
    accounts_url: str
    concurrency: int
    timeout: float
    deal_link_field: str
    retries: int = 5
    backoff: float = 0.5
    #: CRM automation a sync's writes may fire (sent as `trigger`); none by default
    crm_triggers: tuple[str, ...] = ()
    #: the CRM host follows the token answer's api_domain unless zoho.crm_url is set
    follow_api_domain: bool = False

    def in_flight(self, service: str) -> int | None:
        """The calls a service may have in flight per organization from this process, every
        client and thread together (deskctl/backends/zoho/http.py Gate)."""
        return max(1, self.concurrency) if service == "desk" else CRM_CONCURRENCY

    @classmethod
    def from_config(cls, config: Config) -> ZohoSettings:
        dc = str(config.get("zoho.data_center"))  # the config already checked the choice
        crm, desk, accounts = DATA_CENTERS[dc]
        return cls(dc, _checked_url("crm_url", config.get("zoho.crm_url") or crm),
                   _checked_url("desk_url", config.get("zoho.desk_url") or desk),
                   _checked_url("accounts_url", config.get("zoho.accounts_url") or accounts),
                   desk_concurrency(config), float(config.get("zoho.timeout")),
                   str(config.get("zoho.deal_link_field")),
                   crm_triggers=tuple(config.get("zoho.crm_triggers") or ()),
                   follow_api_domain=not config.get("zoho.crm_url"))


def desk_concurrency(config: Config) -> int:
    """Desk calls in flight per portal: zoho.concurrency, capped at the edition's limit less
    zoho.concurrency_headroom (room for Zoho's own CRM-Desk sync and extensions, which
    share the portal's limit); at least one."""
    edition = str(config.get("zoho.edition") or "standard").lower()
    ceiling = max(1, EDITION_CONCURRENCY.get(edition, 10)
                  - int(config.get("zoho.concurrency_headroom")))
    wanted = config.get("zoho.concurrency")
    return min(int(wanted), ceiling) if wanted else ceiling
