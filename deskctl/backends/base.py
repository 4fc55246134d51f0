"""The backend interface: a CRM facet, a Desk facet bound to one portal, and portal access.

Vocabulary: a *module* is a CRM module (Contacts, Accounts, ...); a *kind* is a Desk
collection (contacts, accounts, tickets). Ids are strings. Times are ISO 8601 UTC.
Writes take batches and answer one WriteResult per record, so one bad record never fails
the others. Errors are deskctl errors (NotFound, ValidationError, AuthError, BackendError,
Unsupported). Services use only this module, never a concrete backend.

Reads (`list_records`, `deleted_records`) never skip. `list_records` yields oldest
modification first with ``modified_since`` inclusive, in keyset windows on (modified time,
id) or the backend's equivalent, never offset pages: a record edited while a listing runs
(by the caller between pages, or by anyone) shifts no other record past a page, and moves
to the end of the listing. It is yielded again there (keep the last one seen per id)
unless the backend had read that far already (the zoho Desk facet reads the pages after
the first ahead); then its modified time is at or after the listing's start, so a
listing from that start (the sync's next cursor) reads it. Unknown is not
blank: a field in ``Record.unknown`` was absent from Zoho's answer and must never be
written to the other side as blank (the field missing from ``Record.data`` without being
in ``unknown`` is blank). Instants from the two Zoho services are compared with
`deskctl.models.records.instant`, never as strings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import Any

from deskctl.backends.meter import CallMeter
from deskctl.models.people import Agent, CrmUser, Portal
from deskctl.models.records import ModuleMeta, Record, Tombstone, WriteResult
from deskctl.models.tickets import TicketEvent

DESK_KINDS = ("contacts", "accounts", "tickets")


class CrmApi(ABC):
    """Zoho CRM as the integration sees it."""

    #: records per write call (Zoho CRM: 100)
    write_batch = 100
    #: records each request of a `list_records` listing adds: a listing of n * read_page
    #: records or fewer takes n requests (the zoho backend's COQL pages of 200)
    read_page = 200
    #: the resolution of modified times: Zoho stamps whole seconds (crm-api.md §2,
    #: Modified_Time "2026-11-28T10:00:00+05:30"); the sync's catch-up works in these steps
    time_step = timedelta(seconds=1)
    #: how far the side's clock may be from ours: a record's Created_Time against the time
    #: the sync recorded its create's intent (Zoho's servers keep their own clocks)
    clock_skew = timedelta(minutes=5)
    #: counts this facet's API requests where they are sent (HTTP backends); None: each
    #: method call is one call, counted by the caller
    meter: CallMeter | None = None

    @abstractmethod
    def users(self) -> list[CrmUser]: ...

    @abstractmethod
    def current_user(self) -> CrmUser:
        """The acting user (local: --as/config/sandbox owner; zoho: the token's owner)."""

    @abstractmethod
    def modules(self) -> list[ModuleMeta]: ...

    def module(self, name: str) -> ModuleMeta:
        from deskctl.errors import NotFound

        for meta in self.modules():
            if meta.api_name.lower() == name.lower():
                return meta
        names = ", ".join(m.api_name for m in self.modules())
        raise NotFound(f"unknown CRM module {name!r} (modules: {names})")

    #: how many fields one read may ask for (Zoho CRM: 50); None: no limit
    max_read_fields: int | None = None

    @abstractmethod
    def list_records(self, module: str, modified_since: str | None = None,
                     fields: list[str] | None = None) -> Iterator[Record]:
        """Records of a module, oldest modification first; ``modified_since`` inclusive.
        ``fields``: the API names to read besides id and the modified time (None: all of
        the module's fields); more than `max_read_fields` raises ValidationError before
        any request."""

    @abstractmethod
    def get_record(self, module: str, record_id: str) -> Record: ...

    @abstractmethod
    def get_many(self, module: str, ids: list[str]) -> list[Record]:
        """The records of ``ids`` that exist (missing ones are left out), in batches of
        the API's maximum: never one call per record."""

    @abstractmethod
    def find_records(self, module: str, field: str, values: list[str]) -> list[Record]:
        """Records whose ``field`` equals one of ``values``, ignoring case (a search for
        many values at once)."""

    @abstractmethod
    def create_records(self, module: str, records: list[dict[str, Any]]) -> list[WriteResult]: ...

    @abstractmethod
    def update_records(self, module: str,
                       updates: list[tuple[str, dict[str, Any]]]) -> list[WriteResult]: ...

    @abstractmethod
    def delete_records(self, module: str, ids: list[str]) -> list[WriteResult]: ...

    @abstractmethod
    def deleted_records(self, module: str, since: str | None = None) -> list[Tombstone]:
        """Tombstones of deleted records, oldest first; ``since`` inclusive; complete
        however many there are."""

    @abstractmethod
    def desk_tab_visible(self) -> bool: ...

    @abstractmethod
    def set_desk_tab(self, visible: bool) -> None: ...


class DeskApi(ABC):
    """Zoho Desk for one portal (organization)."""

    #: Desk writes one record per call; this many may run at once
    concurrency = 4
    #: as CrmApi.read_page (the zoho backend's searches of 99, each from the last row of
    #: the one before)
    read_page = 98
    #: as CrmApi.time_step: Desk writes milliseconds, .000 in each of Zoho's examples
    #: (desk-api.md, Timestamps: "2016-06-21T13:16:14.000Z")
    time_step = timedelta(seconds=1)
    #: as CrmApi.clock_skew
    clock_skew = CrmApi.clock_skew

    @property
    def write_batch(self) -> int:
        """Records per sync write batch (recorded in one state transaction): a round of
        ``concurrency`` calls, 25 each."""
        return max(1, int(self.concurrency)) * 25
    #: as CrmApi.meter
    meter: CallMeter | None = None

    def __init__(self, portal_id: str) -> None:
        self.portal_id = portal_id

    def write_session(self) -> AbstractContextManager[Any]:
        """Around a batch of one-record writes: a backend that can may commit them together
        (all or none; the sandbox file does). Not an API call; nothing on Zoho."""
        return nullcontext()

    @abstractmethod
    def agents(self) -> list[Agent]: ...

    @abstractmethod
    def invite_agent(self, email: str, name: str, role: str) -> Agent:
        """Invite a user as an agent; the invitation goes out by mail."""

    @abstractmethod
    def set_agent_role(self, email: str, role: str) -> Agent: ...

    @abstractmethod
    def departments(self) -> list[dict[str, str]]: ...

    @abstractmethod
    def fields(self, kind: str) -> ModuleMeta: ...

    @abstractmethod
    def list_records(self, kind: str, modified_since: str | None = None) -> Iterator[Record]: ...

    @abstractmethod
    def get_record(self, kind: str, record_id: str) -> Record: ...

    @abstractmethod
    def get_many(self, kind: str, ids: list[str]) -> list[Record]:
        """The records of ``ids`` that exist, in batches (never one call per record)."""

    @abstractmethod
    def find_records(self, kind: str, field: str, values: list[str]) -> list[Record]:
        """Records whose ``field`` equals one of ``values``, ignoring case (a search for
        many values at once)."""

    @abstractmethod
    def create_record(self, kind: str, data: dict[str, Any]) -> Record: ...

    @abstractmethod
    def update_record(self, kind: str, record_id: str, data: dict[str, Any]) -> Record: ...

    @abstractmethod
    def delete_record(self, kind: str, record_id: str) -> None: ...

    @abstractmethod
    def deleted_records(self, kind: str, since: str | None = None) -> list[Tombstone]:
        """Records moved to the recycle bin, oldest first; ``since`` inclusive. Zoho keeps
        them 60 days: a record deleted longer ago than that is no longer reported."""

    @abstractmethod
    def ticket_events(self, ticket_id: str,
                      kinds: Collection[str] | None = None) -> list[TicketEvent]:
        """What happened on a ticket, oldest first: every kind, or only ``kinds`` (then a
        backend skips reading the others). History entries carry ``action`` and
        ``changes`` {field: [old, new]}; ratings ``rating`` (good|okay|bad) and
        ``feedback``."""

    def ratings(self) -> list[TicketEvent]:
        """Customers' ratings of the portal's tickets, oldest first (one read where the
        backend can; this default reads ticket by ticket)."""
        found = [e for ticket in self.list_records("tickets")
                 for e in self.ticket_events(ticket.id, ("rating",))]
        return sorted(found, key=lambda e: e.created_time)

    @abstractmethod
    def add_ticket_event(self, ticket_id: str, kind: str, author: str,
                         data: dict[str, Any]) -> TicketEvent:
        """Record a reply, forward, comment, attachment or rating (kinds: EVENT_KINDS)."""


#: what a backend may lack; without it the operation raises Unsupported, never pretends
CAPABILITIES = frozenset({
    "create-portal",     # create a Desk portal
    "zsc-key",           # check another user's portal's ZSC key
    "desk-tab",          # read and change the CRM's Desk tab
    "customer-actions",  # replies, comments and ratings made as the customer
    "desk-tombstones",   # a feed of records deleted in Desk (zoho: the recycle bin)
    "ticket-history",    # field-change history of tickets (escalation signals)
    "ratings",           # customers' ratings of tickets
})


class Backend(ABC):
    name: str = ""
    capabilities: frozenset[str] = CAPABILITIES

    @property
    @abstractmethod
    def crm(self) -> CrmApi: ...

    @abstractmethod
    def portals(self) -> list[Portal]:
        """Desk portals the acting user administers."""

    @abstractmethod
    def create_portal(self, name: str) -> Portal: ...

    @abstractmethod
    def portal_for_zsc_key(self, admin_email: str, zsc_key: str) -> Portal:
        """The portal of ``admin_email`` if ``zsc_key`` is its key; AuthError otherwise."""

    @abstractmethod
    def desk(self, portal_id: str) -> DeskApi: ...

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections; called once when the command ends."""
