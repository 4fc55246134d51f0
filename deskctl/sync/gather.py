"""Everything a module's plan needs besides what changed: the pairs it touches, the
records an unfinished create made, records in error, and match candidates. Every lookup is
batched (get_many, many-value find): nothing is fetched one record at a time.

Recovery of an unfinished create looks first among what this run already read (a record
made since the cursor is newer than it), then searches the other side for any match key the
intent recorded; only records created after the intent (less the side's clock skew) and
still unpaired can be it. A record found by its match key (email, account name) wins over
one found by name only, and a name-only hit whose match key names someone else is not it.
When none is found, its match key and name may have been edited where it was created: a
record made in the intent's window, claimed by no other intent, that holds every other value
of the intent (two at least when its name was edited too) is it. Several leave the create
unsure (never made twice). The record found for a create whose source was deleted since
gets the pair the create would have recorded, so the deletion applies to it (--on-delete)
as in a run never interrupted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from deskctl import clock
from deskctl.models.records import Record, known_instant
from deskctl.models.sync import CRM, DESK, SIDES, Pair, Side, other
from deskctl.state.sync import SyncStore
from deskctl.sync.mapping import MATCH_FIELD, NAME_FIELD, ModuleMapping, fingerprint
from deskctl.sync.side import SideApi

#: how long after its intent a create may still make its record (a slow batch, retries)
ANSWER_WAIT = timedelta(minutes=5)


@dataclass
class Snapshot:
    """Raw reads of one module, turned into planner Items later (with the account links of
    the moment, so Contacts see the Account pairs made earlier in the same run)."""

    module: str
    records: dict[Side, dict[str, Record]] = field(default_factory=lambda: {CRM: {}, DESK: {}})
    deleted: dict[Side, set[str]] = field(default_factory=lambda: {CRM: set(), DESK: set()})
    candidates: dict[Side, list[Record]] = field(default_factory=lambda: {CRM: [], DESK: []})
    current: dict[tuple[Side, str], Record] = field(default_factory=dict)
    pairs: dict[str, Pair] = field(default_factory=dict)
    recovered: dict[tuple[Side, str], tuple[Record, dict[str, Any]]] = field(
        default_factory=dict)
    unsure: set[tuple[Side, str]] = field(default_factory=set)
    reserved: set[tuple[Side, str]] = field(default_factory=set)
    cursors: dict[str, str] = field(default_factory=dict)
    gone: set[tuple[Side, str]] = field(default_factory=set)  # errors/intents of deleted records
    full: set[Side] = field(default_factory=set)  # sides read completely: no search needed
    made: set[str] = field(default_factory=set)  # CRM ids of lost creates' pairs (_orphaned)

    def paired(self, side: Side) -> set[str]:
        return {p.id(side) for p in self.pairs.values()}


def _keys(mapping: ModuleMapping, side: Side, record: Record) -> set[str]:
    """A side's record's values as _value_keys, lookups left out (ids are not keys)."""
    return _value_keys({pair.crm: record.data.get(pair.name(side)) or None
                        for pair in mapping.fields if pair.type != "lookup"})


def _window(intent: dict[str, Any], skew: timedelta) -> tuple[datetime, datetime]:
    """When the record an intent's create made was created (``skew``: the target side's
    SideApi.clock_skew): from the skew before the intent to ANSWER_WAIT and the skew after
    it, so a record made by hand long after a create that never landed is not taken for
    it."""
    at = clock.parse_time(intent["at"])
    return at - skew, at + skew + ANSWER_WAIT


def _made_in(window: tuple[datetime, datetime], record: Record) -> bool:
    created = known_instant(record.created_time)
    return created is not None and window[0] <= created <= window[1]


def _evidence(match: str, name: str, payload: dict[str, Any], held: dict[str, Any]) -> int:
    """How many of the values besides its match key and name a record holding them
    (_holds) must share with ``payload`` to be taken for the record a create made with it:
    none with the same name, two without (a first name alone is no evidence), one where the
    name is the match key (Accounts)."""
    if name == match:
        return 1
    return 0 if payload.get(name) and held.get(name) == payload.get(name) else 2


def _holds(values: dict[str, Any], lookups: set[str], held: dict[str, Any]) -> bool:
    """Whether a record holds these values; a lookup may have been set or cleared since
    (deleting an account takes it off its contacts), not changed to another."""
    return all(held.get(n) == v or (n in lookups and None in (v, held.get(n)))
               for n, v in values.items())


def _value_keys(values: dict[str, Any]) -> set[str]:
    """Canonical values as 'Field=value' keys (normalized like _keys), lookups included."""
    return {f"{name}={' '.join(str(value).split()).lower()}"
            for name, value in values.items() if value not in (None, "")}


def _created_since(record: Record, since: datetime, unknown: bool = False) -> bool:
    """Compared as instants (Zoho CRM answers with offsets, Desk with Z); ``unknown``: the
    answer when the record has no readable creation time."""
    created = known_instant(record.created_time)
    return unknown if created is None else created >= since


class Gatherer:
    def __init__(self, sync: SyncStore, sides: dict[Side, SideApi], mapping: ModuleMapping,
                 canonical: Any) -> None:
        self.sync = sync
        self.sides = sides
        self.mapping = mapping
        self.module = mapping.module
        self.canonical = canonical  # (side, Record) -> canonical values

    def fetch(self, snap: Snapshot, side: Side, ids: set[str]) -> set[str]:
        """Bring records not read yet into the snapshot; returns the ids that are gone."""
        wanted = sorted(i for i in ids if i not in snap.records[side]
                        and i not in snap.deleted[side])
        found = {r.id: r for r in self.sides[side].get_many(wanted)}
        snap.records[side].update(found)
        return {i for i in ids if i not in snap.records[side]}

    def gather(self, snap: Snapshot) -> None:
        self._load_pairs(snap)
        for pair in self.sync.owing(self.module):
            snap.pairs.setdefault(pair.crm_id, pair)
        self._retry_errors(snap)
        self._legacy_counterparts(snap)
        self._recover(snap)
        self._load_pairs(snap)  # of the records the steps above brought in
        self._find_candidates(snap)

    def _load_pairs(self, snap: Snapshot) -> None:
        for side in SIDES:
            known = snap.paired(side)
            touched = (set(snap.records[side]) | snap.deleted[side]) - known
            for pair in self.sync.pairs_for(self.module, side, touched):
                # not over a lost create's pair (_orphaned) by its source's former one
                snap.pairs.setdefault(pair.crm_id, pair)

    def _unpaired(self, side: Side, records: list[Record]) -> list[Record]:
        paired = {p.id(side) for p in self.sync.pairs_for(self.module, side,
                                                           [r.id for r in records])}
        return [r for r in records if r.id not in paired]

    def _retry_errors(self, snap: Snapshot) -> None:
        """Records whose create failed come back in batches; an ambiguous match is looked
        at again only when one of its records (or a record with its key) changed."""
        errors = self.sync.errors(self.module)
        wanted: dict[Side, set[str]] = {CRM: set(), DESK: set()}
        groups: dict[str, list[tuple[Side, str]]] = {}
        for error in errors:
            entry = (error["side"], error["record_id"])
            if error["kind"] == "ambiguous":
                groups.setdefault(error["match_key"], []).append(entry)
            else:
                wanted[entry[0]].add(entry[1])
        if groups:
            read_keys = set()
            for side in SIDES:
                match_field = MATCH_FIELD[self.module][0 if side == CRM else 1]
                read_keys |= {str(r.data.get(match_field, "")).lower()
                              for r in snap.records[side].values()}
            for key, members in groups.items():
                if key in read_keys or any(i in snap.records[s] or i in snap.deleted[s]
                                           for s, i in members):
                    for side, record_id in members:
                        wanted[side].add(record_id)
        for side in SIDES:
            snap.gone |= {(side, i) for i in wanted[side] & snap.deleted[side]}
            paired = {p.id(side) for p in self.sync.pairs_for(self.module, side, wanted[side])}
            todo = wanted[side] - paired  # a failed update is owed by its pair: no read
            snap.gone |= {(side, i) for i in self.fetch(snap, side, todo)}

    def _legacy_counterparts(self, snap: Snapshot) -> None:
        """Pairs from before base values need both sides once, to set their base."""
        wanted: dict[Side, set[str]] = {CRM: set(), DESK: set()}
        for pair in snap.pairs.values():
            if pair.base is None:
                for side in SIDES:
                    if pair.id(other(side)) in snap.records[other(side)]:
                        wanted[side].add(pair.id(side))
        for side in SIDES:
            self.fetch(snap, side, wanted[side])
            for record_id in wanted[side]:
                if record_id in snap.records[side]:
                    snap.current[(side, record_id)] = snap.records[side][record_id]

    def _recover(self, snap: Snapshot) -> None:
        intents = self.sync.intents(self.module)
        if not intents:
            return
        for side in SIDES:
            ids = {i for s, i in intents if s == side}
            snap.gone |= {(side, i) for i in self.fetch(snap, side, ids)}
        open_: dict[tuple[Side, str], tuple[dict[str, Any], set[str]]] = {}
        for (side, record_id), intent in intents.items():
            source = snap.records[side].get(record_id)
            keys = set(intent["keys"]) | (_keys(self.mapping, side, source) if source else set())
            open_[(side, record_id)] = (intent, keys)
        paired = {s: snap.paired(s) for s in SIDES}
        read = {s: self._by_key(s, snap.records[s].values()) for s in {other(k[0]) for k in open_}}
        found: dict[tuple[Side, str], list[Record]] = {}
        for (side, record_id), (intent, keys) in open_.items():
            target = other(side)
            found[(side, record_id)] = self._made(read[target], target, intent, keys,
                                                  paired[target])
        missing = [k for k, v in found.items() if not v]
        by_side: dict[Side, dict[str, set[str]]] = {CRM: {}, DESK: {}}
        for side, record_id in missing:
            for key in open_[(side, record_id)][1]:
                name, _, value = key.partition("=")
                by_side[other(side)].setdefault(name, set()).add(value)
        searched: dict[Side, list[Record]] = {CRM: [], DESK: []}
        for target, fields in by_side.items():
            for name, values in fields.items():
                searched[target] += self._unpaired(target, self.sides[target].find(
                    self.mapping.side_field(target, name), sorted(values)))
        hits = {s: self._by_key(s, searched[s]) for s in SIDES}
        for side, record_id in missing:
            intent, keys = open_[(side, record_id)]
            target = other(side)
            found[(side, record_id)] = self._made(hits[target], target, intent, keys,
                                                  paired[target])
        shared = self._edited_keys(snap, open_, found, searched, paired)
        for (side, record_id), made in found.items():
            intent = open_[(side, record_id)][0]
            exact = [r for r in made
                     if fingerprint(self.canonical(other(side), r)) == intent["fp"]]
            choice = [] if (side, record_id) in shared else made if len(made) == 1 else exact
            if len(choice) == 1:
                snap.records[other(side)].setdefault(choice[0].id, choice[0])
                snap.reserved.add((other(side), choice[0].id))
                if (side, record_id) in snap.gone:
                    self._orphaned(snap, side, record_id, choice[0], intent["payload"])
                else:
                    snap.recovered[(side, record_id)] = (choice[0], intent["payload"])
            elif made:
                snap.unsure.add((side, record_id))
                snap.reserved |= {(other(side), r.id) for r in made}

    def _orphaned(self, snap: Snapshot, side: Side, record_id: str, made: Record,
                  payload: dict[str, Any]) -> None:
        """The record a lost create made, its source deleted since: the pair the create
        would have recorded, its source a tombstone, so the planner applies --on-delete to
        it as if the run had never been interrupted (never left on no pair)."""
        ids = {side: record_id, other(side): made.id}
        base = {**dict.fromkeys(self.canonical(other(side), made)), **payload}
        snap.pairs[ids[CRM]] = Pair(self.module, ids[CRM], ids[DESK], base)
        snap.made.add(ids[CRM])
        snap.deleted[side].add(record_id)

    def _edited_keys(self, snap: Snapshot, open_: dict[tuple[Side, str], Any],
                     found: dict[tuple[Side, str], list[Record]],
                     searched: dict[Side, list[Record]], paired: dict[Side, set[str]]
                     ) -> set[tuple[Side, str]]:
        """Intents found by no key: their record's match key and name may both have been
        edited on the side it was created on. Candidates are unpaired records claimed by no
        other intent, created in the intent's window (all of them were read: by this run's
        read, or by a read since the oldest such intent), that hold every value of the
        payload but its match key and name (and enough of them: _evidence): added to
        ``found``. Returns the intents whose candidate fits several intents: unsure."""
        lost = [k for k, v in found.items() if not v]
        if not lost:
            return set()
        claimed = {r.id for made in found.values() for r in made}
        windows = {k: _window(open_[k][0], self.sides[other(k[0])].clock_skew) for k in lost}
        pool: dict[Side, dict[str, Record]] = {s: {} for s in SIDES}
        for target in {other(side) for side, _ in lost}:
            oldest = min(windows[k][0] for k in lost if other(k[0]) == target)
            read_from = self.sync.cursors(self.module).get(target)
            extra: list[Record] = []
            if target not in snap.full and read_from is not None and \
                    clock.parse_time(read_from) > oldest:
                extra = self._unpaired(target, list(self.sides[target].changes(
                    clock.iso(oldest))))
            for record in [*snap.records[target].values(), *searched[target], *extra]:
                if record.id not in paired[target] and record.id not in claimed:
                    pool[target][record.id] = record
        # each candidate's values once, indexed: lost intents x pool can be large
        values = {(s, i): self.canonical(s, r) for s in SIDES for i, r in pool[s].items()}
        by_value: dict[Side, dict[str, list[str]]] = {s: {} for s in SIDES}
        for (side, record_id), held in values.items():
            for value in _value_keys(held):
                by_value[side].setdefault(value, []).append(record_id)
        match, name = MATCH_FIELD[self.module][0], NAME_FIELD[self.module][0]
        lookups = {f.crm for f in self.mapping.lookups}
        fits: dict[tuple[Side, str], list[str]] = {}
        for key in lost:
            target, payload = other(key[0]), open_[key][0]["payload"]
            rest = {n: v for n, v in payload.items() if n not in (match, name)}
            plain = {n: v for n, v in rest.items() if n not in lookups}
            # a fit holds every plain value (or the name): any one of them finds it
            anchor = (sorted(_value_keys(plain))
                      or sorted(_value_keys({name: payload.get(name)})))[:1]
            window = windows[key]
            fits[key] = [i for value in anchor for i in by_value[target].get(value, ())
                         if (not pool[target][i].created_time
                             or _made_in(window, pool[target][i]))
                         and _holds(rest, lookups, values[(target, i)])
                         and len(_value_keys(rest) & _value_keys(values[(target, i)]))
                         >= _evidence(match, name, payload, values[(target, i)])]
        self._creation_times(pool, {(other(k[0]), i) for k, ids in fits.items() for i in ids
                                    if not pool[other(k[0])][i].created_time})
        holders: dict[tuple[Side, str], list[tuple[Side, str]]] = {}
        for key, ids in fits.items():
            target = other(key[0])
            for record in (pool[target][i] for i in ids):
                if _made_in(windows[key], record):
                    found[key].append(record)
                    holders.setdefault((target, record.id), []).append(key)
        # a record that fits several intents is none's alone
        return {k for keys in holders.values() if len(keys) > 1 for k in keys}

    def _creation_times(self, pool: dict[Side, dict[str, Record]],
                        wanted: set[tuple[Side, str]]) -> None:
        """Candidates read without their creation time (a sync's CRM read asks Zoho for the
        mapped fields and Modified_Time only) are read again by id, batched, so the
        created-since test can tell; still unknown, a record is not taken."""
        for side in SIDES:
            ids = sorted(i for s, i in wanted if s == side)
            for record in self.sides[side].get_many(ids):
                if record.id in pool[side]:
                    pool[side][record.id] = record

    def _by_key(self, side: Side, records: Iterable[Record]) -> dict[str, list[Record]]:
        """Records by each of their keys (_keys): an intent's candidates are looked up, not
        searched for among every record read (intents x records on a big rerun)."""
        index: dict[str, list[Record]] = {}
        for record in records:
            for key in _keys(self.mapping, side, record):
                index.setdefault(key, []).append(record)
        return index

    def _made(self, index: dict[str, list[Record]], target: Side, intent: dict[str, Any],
              keys: set[str], paired: set[str]) -> list[Record]:
        """Unpaired records of ``target`` created since the intent that share a key."""
        since = _window(intent, self.sides[target].clock_skew)[0]
        match = MATCH_FIELD[self.module][0]
        wanted = str(intent["payload"].get(match) or "").lower()
        strong: dict[str, Record] = {}
        weak: dict[str, Record] = {}
        for record in {r.id: r for key in keys for r in index.get(key, ())}.values():
            if record.id in paired or not _created_since(record, since, unknown=True):
                continue
            shared = _keys(self.mapping, target, record) & keys
            if any(k.startswith(f"{match}=") for k in shared):
                strong[record.id] = record
            elif shared:
                # by name only: not a record whose match key says it is someone else
                value = str(self.canonical(target, record).get(match) or "").lower()
                if not value or value == wanted:
                    weak[record.id] = record
        return list((strong or weak).values())

    def _find_candidates(self, snap: Snapshot) -> None:
        """Unpaired records on either side sharing a match key with an unpaired change."""
        paired = {s: snap.paired(s) for s in SIDES}
        fields = {CRM: MATCH_FIELD[self.module][0], DESK: MATCH_FIELD[self.module][1]}
        keys: set[str] = set()
        for side in SIDES:
            for record in snap.records[side].values():
                value = record.data.get(fields[side])
                if record.id not in paired[side] and value:
                    keys.add(str(value).lower())
        for side in SIDES:
            # a side read in full already holds every candidate
            found = self.sides[side].find(fields[side], sorted(keys)) \
                if keys and side not in snap.full else []
            snap.candidates[side] = self._unpaired(side, [r for r in found
                                                          if r.id not in paired[side]])
