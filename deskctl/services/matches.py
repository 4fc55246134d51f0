"""Settling matches by hand: `sync link` pairs two records the sync could not match (an
ambiguous match, different emails), `sync ignore` leaves a record out of the sync. Both
change state under the run lock and are audited; the sync run does the writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deskctl.errors import NotFound, RuleViolation, UsageError, ValidationError
from deskctl.models.sync import CRM, DESK, SIDES, Pair, Side, other
from deskctl.services.access import require_admin
from deskctl.services.locking import exclusive
from deskctl.services.sync import NOT_CONFIGURED, SyncService

if TYPE_CHECKING:
    from deskctl.models.records import Record
    from deskctl.state.sync import SyncStore
    from deskctl.sync.side import SideApi

LABEL = {CRM: "CRM", DESK: "Desk"}
RETRY = "taken back into the sync ('sync ignore --undo'); the next run syncs it"


class MatchService(SyncService):
    def _store(self) -> SyncStore:
        from deskctl.state.sync import SyncStore

        return SyncStore(self.state)

    def _sides(self, module: str, kind: str) -> dict[Side, SideApi]:
        from deskctl.sync.side import sides_for

        desk = self.backend.desk(str(self._active().portal_id))
        return sides_for(self.backend.crm, desk, module, kind)

    @staticmethod
    def _read(sides: dict[Side, SideApi], side: Side, record_id: str) -> Record | None:
        try:
            found = [r for r in sides[side].get_many([record_id]) if r.id == record_id]
        except (NotFound, ValidationError):  # an id of the other side's shape
            return None
        return found[0] if found else None

    @exclusive("sync link")
    def link(self, module: str, crm_id: str, desk_id: str) -> dict[str, Any]:
        """Pair two unpaired records; their values are merged like a first link (a blank
        takes the other side's value, differing fields go to the conflict policy), and the
        next `sync run` writes what each side is owed."""
        from deskctl.sync.execute import AccountLinks
        from deskctl.sync.mapping import canonical
        from deskctl.sync.merge import Policy, empty_base, merge

        me = require_admin(self.backend, "link records by hand")
        settings = self.settings()
        if settings is None:
            raise RuleViolation(NOT_CONFIGURED)
        store = self._store()
        ids = {CRM: crm_id, DESK: desk_id}
        for side in SIDES:
            found = store.pairs_for(module, side, [ids[side]])
            pair = found[0] if found else None
            if pair is not None and (pair.crm_id, pair.desk_id) == (crm_id, desk_id):
                return {"module": module, "crm_id": crm_id, "desk_id": desk_id,
                        "writes": {}, "conflicts": [], "changed": False}
            if pair is not None:
                raise RuleViolation(
                    f"{LABEL[side]} {module} record {ids[side]} is already paired with "
                    f"{LABEL[other(side)]} record {pair.id(other(side))}; unpair it first "
                    f"('deskctl sync ignore {ids[side]}', then 'sync ignore --undo')")
            if (side, ids[side]) in store.ignored_ids(module):
                raise RuleViolation(f"{LABEL[side]} record {ids[side]} is ignored by the "
                                    f"sync; take it back with 'deskctl sync ignore --undo "
                                    f"{ids[side]}' first")
        mapping = self.mappings()[module]
        sides = self._sides(module, mapping.kind)
        records = {}
        for side in SIDES:
            record = self._read(sides, side, ids[side])
            if record is None:
                raise NotFound(f"no {LABEL[side]} {module} record {ids[side]}")
            records[side] = record
        links = AccountLinks.of(store)
        now = {s: canonical(mapping, s, records[s].data, links.canonical) for s in SIDES}
        modified = {s: records[s].modified_time for s in SIDES}
        policy = Policy(settings["mode"], settings["conflict"], settings["on_delete"])
        merged = merge(policy, empty_base(list(now[CRM])), now, {}, modified)
        pair = Pair(module, crm_id, desk_id, merged.base,
                    {s: now[s] for s in merged.writes}, modified)
        with self.state.transaction():
            store.save_pairs([pair])
            if merged.conflicts:
                store.add_conflict(module, crm_id, desk_id, merged.conflicts)
            for side in SIDES:
                store.clear_error(module, side, ids[side])
                store.clear_intent(module, side, ids[side])
                store.take_back(module, side, ids[side])
            self.state.audit(me.email, "sync.link", f"{module}/{crm_id}",
                             {"desk_id": desk_id,
                              "writes": {s: sorted(w) for s, w in merged.writes.items()},
                              "conflicts": sorted(merged.conflicts)})
        return {"module": module, "crm_id": crm_id, "desk_id": desk_id,
                "writes": merged.writes, "conflicts": sorted(merged.conflicts),
                "changed": True}

    def _side_of(self, module: str, record_id: str, side: Side | None) -> Side:
        """The side whose record has this id (``side`` when given)."""
        if side is not None:
            return side
        from deskctl.sync.mapping import DESK_KIND

        sides = self._sides(module, DESK_KIND[module])
        found = [s for s in SIDES if self._read(sides, s, record_id) is not None]
        if not found:
            store = self._store()
            found = [s for s in SIDES if (s, record_id) in store.ignored_ids(module)]
        if not found:
            raise NotFound(f"no CRM or Desk {module} record {record_id}")
        if len(found) > 1:
            raise UsageError(f"{record_id} is a CRM and a Desk {module} id: say which with "
                             "--side crm|desk")
        return found[0]

    @exclusive("sync ignore")
    def ignore(self, module: str, record_id: str, side: Side | None,
               undo: bool) -> dict[str, Any]:
        """Leave a record out of the sync (a paired one is unpaired, its counterpart kept
        apart too, nothing deleted); with ``undo``, take it back (and the counterpart it
        was unpaired from): the next run syncs them."""
        me = require_admin(self.backend, "ignore records in the sync")
        settings = self.settings()
        if settings is None:
            raise RuleViolation(NOT_CONFIGURED)
        store = self._store()
        side = self._side_of(module, record_id, side)
        ignored = (side, record_id) in store.ignored_ids(module)
        result: dict[str, Any] = {"module": module, "side": side, "record_id": record_id,
                                  "ignored": not undo, "changed": ignored == undo}
        if ignored != undo:
            return result
        two_way = settings.get("mode") == "bidirectional"
        with self.state.transaction():
            if undo:
                partner = store.unignore(module, side, record_id)
                back = [(side, record_id)] + ([(other(side), partner)] if partner else [])
                for each_side, each_id in back:
                    store.take_back(module, each_side, each_id)
                    if two_way or each_side == CRM:  # one-way leaves Desk-only records be
                        # read again by the next run even if it does not change
                        store.record_error(module, each_side, each_id, RETRY)
            else:
                found = store.pairs_for(module, side, [record_id])
                pair = found[0] if found else None
                partner = ""
                if pair is not None:
                    partner = pair.id(other(side))
                    store.drop_pair(module, pair.crm_id)
                    store.keep_apart(module, other(side), partner)
                    result["unpaired_from"] = partner
                store.ignore(module, side, record_id, me.email, partner)
                self._recheck_group(store, module, side, record_id)
                store.clear_error(module, side, record_id)
                store.clear_intent(module, side, record_id)
            self.state.audit(me.email, "sync.ignore" + (".undo" if undo else ""),
                             f"{module}/{side}/{record_id}", result)
        return result

    @staticmethod
    def _recheck_group(store: SyncStore, module: str, side: Side, record_id: str) -> None:
        """An ambiguous match is looked at again only when one of its records changes;
        leaving one out is such a change, so the rest of its group is read again by the
        next run (which may now match or copy them) whether or not they were edited."""
        errors = store.errors(module)
        keys = {e["match_key"] for e in errors if e["kind"] == "ambiguous"
                and (e["side"], e["record_id"]) == (side, record_id)}
        for error in errors:
            if error["kind"] == "ambiguous" and error["match_key"] in keys \
                    and (error["side"], error["record_id"]) != (side, record_id):
                store.record_error(module, error["side"], error["record_id"],
                                   f"{error['message']}; one of them is ignored now, the "
                                   "next run looks again")

    def ignored(self) -> list[dict[str, Any]]:
        return self._store().ignored()
