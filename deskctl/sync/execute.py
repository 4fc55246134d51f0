"""The executor: records a module's pairs with what they still owe each side, then applies
the writes in batches at the backend's limits, recording each batch's outcome in one
transaction. Where a side's calls run side by side (Desk over HTTP), the next batch is sent
(its intents recorded first) before a batch's outcomes are recorded, so the call slots stay
busy across batch boundaries; the state store is used from this thread only.

Crash safety: a pair is saved with the values each owing side held *before* the writes
that pay it, so a run killed between the two finishes the job next time; a create is
preceded by a durable intent (payload, match keys, fingerprint), so the next run finds the
record it made instead of creating it again. An update answered "not found" is a deletion
on that side and follows the --on-delete policy, never retried forever.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any

from deskctl import clock
from deskctl.errors import DeskctlError
from deskctl.models.records import WriteResult
from deskctl.models.sync import CRM, SIDES, Pair, Side, other
from deskctl.state.batch import StateBatch
from deskctl.state.sync import SyncStore
from deskctl.sync.mapping import ModuleMapping, fingerprint, intent_keys, to_side
from deskctl.sync.merge import Policy
from deskctl.sync.plan import STATE_KINDS, Action, summary_key
from deskctl.sync.side import LIMITED, Sending, SideApi, WriteKind

KINDS: tuple[WriteKind, ...] = ("create", "update", "delete")


@dataclass
class Sent:
    """A write batch whose calls were sent: by position in ``batch``, the errors found
    before sending (``early``) and the items sent (``todo``, in ``sending``'s order)."""

    kind: WriteKind
    batch: list[Action]
    early: dict[int, str]
    todo: list[int]
    sending: Sending


def _batches(kind: WriteKind, actions: list[Action], size: int
             ) -> list[tuple[WriteKind, list[Action]]]:
    return [(kind, actions[i:i + size]) for i in range(0, len(actions), size)]


class Unresolved(DeskctlError):
    """A Contact's account is not linked (yet); the contact waits for the next run."""


@dataclass
class Outcome:
    counts: dict[str, int] = field(default_factory=dict)  # as plan.summarize counts
    failed: list[tuple[Action, str]] = field(default_factory=list)

    def done(self, action: Action) -> None:
        if action.kind != "settle":
            key = summary_key(action)
            self.counts[key] = self.counts.get(key, 0) + 1


class AccountLinks:
    """Translates canonical account references (CRM ids, or 'desk:<id>' when unlinked).

    A forgotten pair (``former``: a deletion, `sync ignore`) still reads where no current
    pair has its Desk account: a contact left pointing to either of its accounts reads as
    the CRM id its base holds, not as an edit nobody made. It is never written: the sync
    points no contact to an account kept apart (or gone). An account in ``gone`` ((side,
    id): read as not there, docs/deletions.md) is no account."""

    def __init__(self, crm_to_desk: dict[str, str],
                 former: dict[str, str] | None = None,
                 gone: Collection[tuple[Side, str]] = ()) -> None:
        self.crm_to_desk = crm_to_desk
        self.desk_to_crm = {d: c for c, d in crm_to_desk.items()}
        self.former = {d: c for c, d in (former or {}).items() if d not in self.desk_to_crm}
        self.former_crm = set(self.former.values()) - set(crm_to_desk)
        self.gone = gone

    @classmethod
    def of(cls, sync: SyncStore, gone: Collection[tuple[Side, str]] = ()) -> AccountLinks:
        return cls(sync.pair_map("Accounts"), sync.former_pairs("Accounts"), gone)

    def resolves(self, side: Side, record_id: str) -> bool:
        """Whether a side's account id reads without a look: a current pair's, or known
        gone."""
        own = self.crm_to_desk if side == CRM else self.desk_to_crm
        return record_id in own or (side, record_id) in self.gone

    def canonical(self, side: Side, record_id: str) -> str | None:
        if (side, record_id) in self.gone:
            return None
        if side == CRM:
            return record_id
        return self.desk_to_crm.get(record_id) or self.former.get(record_id) or \
            f"desk:{record_id}"

    def on_side(self, side: Side, value: str) -> str:
        own = {CRM: self.desk_to_crm, "desk": self.crm_to_desk}[side]
        tagged = value.startswith("desk:")
        if value in self.former_crm:
            raise Unresolved(f"its account {value} is no longer synced (its pair was "
                             "forgotten after a deletion or 'sync ignore')")
        if tagged == (side == "desk"):  # already this side's id
            return value[5:] if tagged else value
        key = value[5:] if tagged else value
        if key in own:
            return own[key]
        raise Unresolved(f"its account {value} is not synced yet")


def _exit_hook(point: str) -> None:
    """DESKCTL_TEST_EXIT_AFTER=<point>[:N]: exit the process (no cleanup, like a kill) at
    the Nth time the run reaches ``point`` (state: pairs recorded; <kind>-<side>: a write
    batch recorded; <kind>-<side>-sent: written but not recorded, the next batch possibly
    under way), so crash tests can stop at exact boundaries."""
    import os

    wanted = os.environ.get("DESKCTL_TEST_EXIT_AFTER")
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != point:
        return
    left = int(os.environ.get("_DESKCTL_EXIT_LEFT", count or "1")) - 1
    os.environ["_DESKCTL_EXIT_LEFT"] = str(left)
    if left <= 0:
        os._exit(99)


class Executor:
    def __init__(self, sides: dict[Side, SideApi], sync: SyncStore, mapping: ModuleMapping,
                 links: AccountLinks, policy: Policy,
                 progress: Callable[[int], None] = lambda n: None) -> None:
        self.sides = sides
        self.sync = sync
        self.mapping = mapping
        self.module = mapping.module
        self.links = links
        self.policy = policy
        self.progress = progress
        self.outcome = Outcome()
        self.pairs: dict[str, Pair] = {}  # by CRM id: pairs recorded before the writes

    def apply(self, actions: list[Action]) -> Outcome:
        state = [a for a in actions if a.kind in STATE_KINDS]
        with self.sync.batch() as writes:
            for action in state:
                self._record_state(writes, action)
        _exit_hook("state")
        self.progress(len(state))
        for side in SIDES:
            self._stream(side, [a for a in actions if a.target == side])
        return self.outcome

    # state actions

    def _save(self, writes: StateBatch, pair: Pair) -> None:
        self.pairs[pair.crm_id] = pair
        writes.save_pair(pair)

    def _record_state(self, writes: StateBatch, action: Action) -> None:
        crm_id, desk_id = str(action.crm_id), str(action.desk_id)
        if action.kind == "unlink":
            writes.drop_pair(self.module, crm_id)
            if action.target is not None:
                writes.keep_apart(self.module, action.target, str(action.id_on(action.target)))
        elif action.kind == "problem":
            side = action.target or CRM
            writes.record_error(self.module, side, str(action.id_on(side)),
                                action.reason, "ambiguous" if action.key else "write",
                                action.key)
        else:
            assert action.pair is not None
            self._save(writes, action.pair)
            if action.conflicts:
                writes.add_conflict(self.module, crm_id, desk_id, action.conflicts)
            elif action.closes:
                writes.close_conflict(self.module, crm_id)
            if action.links:
                for side, record_id in ((CRM, crm_id), ("desk", desk_id)):
                    writes.clear_intent(self.module, side, record_id)
                    writes.clear_error(self.module, side, record_id)
        self.outcome.done(action)

    # writes

    def _payload(self, side: Side, action: Action) -> dict[str, Any]:
        return to_side(self.mapping, side, action.values, self.links.on_side)

    def _stream(self, side: Side, actions: list[Action]) -> None:
        """The side's writes, kind by kind, in batches of ``api.batch``; up to ``api.ahead``
        batches are sent (their intents recorded first) before the one before them is
        recorded, so its calls fill the slots the earlier batch frees. Each batch's
        outcomes are still one transaction, in the order the batches were sent."""
        api = self.sides[side]
        todo: deque[tuple[WriteKind, list[Action]]] = deque()
        for kind in KINDS:
            todo.extend(_batches(kind, [a for a in actions if a.kind == kind], api.batch))
        sent: deque[Sent] = deque()
        recreate: list[Action] = []
        try:
            while sent or (todo and api.limit is None):
                if todo and api.limit is None and len(sent) <= api.ahead:
                    sent.append(self._send(side, *todo.popleft()))
                    continue
                recreate += self._finish(side, sent.popleft())
                if not todo and api.limit is None:  # the re-creates, after the rest
                    todo.extend(_batches("create", recreate, api.batch))
                    recreate = []
        finally:
            api.close()
        if api.limit is not None:  # what was written is recorded; the rest waits a run
            raise api.limit

    def _send(self, side: Side, kind: WriteKind, batch: list[Action]) -> Sent:
        """Records a create batch's intents, then sends the batch's calls."""
        payloads: list[dict[str, Any]] = []
        early: dict[int, str] = {}
        todo: list[int] = []
        for i, action in enumerate(batch):
            try:
                payloads.append(self._payload(side, action) if kind != "delete" else {})
                todo.append(i)
            except Unresolved as exc:
                payloads.append({})
                early[i] = exc.message
        if kind == "create":
            self.sync.add_intents(self.module, other(side), [
                (str(batch[i].source_id()), batch[i].values,
                 intent_keys(self.module, batch[i].values), fingerprint(batch[i].values))
                for i in todo])
        sending = self.sides[side].send(kind, [
            (None if kind == "create" else batch[i].id_on(side), payloads[i]) for i in todo])
        return Sent(kind, batch, early, todo, sending)

    def _finish(self, side: Side, sent: Sent) -> list[Action]:
        """Waits for a sent batch's answers and records them in one transaction; returns
        the creates of records gone on ``side`` that the policy makes again."""
        answers = sent.sending.results()
        _exit_hook(f"{sent.kind}-{side}-sent")  # written remotely, recorded nowhere yet
        results = {i: WriteResult(False, error=msg) for i, msg in sent.early.items()}
        results.update(zip(sent.todo, answers, strict=True))
        recreate: list[Action] = []
        with self.sync.batch() as writes:  # the batch's outcomes: one transaction
            for i, action in enumerate(sent.batch):
                if results[i].error is LIMITED:
                    # not written, no error either: the next run does it. A create was never
                    # carried out (no call, or one Zoho refused): its intent has nothing to
                    # find, and looking would cost the next run searches
                    if sent.kind == "create":
                        writes.clear_intent(self.module, other(side), str(action.source_id()))
                    continue
                again = self._record(writes, side, sent.kind, action, results[i])
                if again is not None:
                    recreate.append(again)
        _exit_hook(f"{sent.kind}-{side}")
        self.progress(len(sent.batch))
        return recreate

    def _record(self, writes: StateBatch, side: Side, kind: WriteKind, action: Action,
                result: WriteResult) -> Action | None:
        """Record one write's outcome; returns a create when the record to update is gone
        and the policy re-creates it."""
        source = other(side)
        source_id = str(action.source_id())
        if not result.ok and result.not_found and kind != "create":
            return self._gone(writes, side, kind, action)
        if not result.ok:
            if kind == "create" and not result.lost:  # rejected: nothing was created
                writes.clear_intent(self.module, source, source_id)
            writes.record_error(self.module, source, source_id,
                                f"{kind} in {side} failed: {result.error}")
            self.outcome.failed.append((action, str(result.error)))
            return None
        written = result.modified_time or clock.now_iso()
        if kind == "delete":
            writes.drop_pair(self.module, str(action.crm_id))
        elif kind == "create":
            ids = {side: str(result.id), source: source_id}
            # not kept in self.pairs: no later action of this run refers to a record it
            # creates (a first sync of N records would hold N more pairs in memory)
            writes.save_pair(Pair(self.module, ids[CRM], ids["desk"], dict(action.values), {},
                                  {side: written, source: ""}))
            writes.clear_intent(self.module, source, source_id)
            writes.clear_error(self.module, source, source_id)
        else:
            pair = self.pairs.get(str(action.crm_id))
            if pair is not None:
                held = {s: v for s, v in pair.held.items() if s != side}
                self._save(writes, replace(pair, held=held,
                                           modified={**pair.modified, side: written}))
            writes.clear_error(self.module, source, source_id)
        self.outcome.done(action)
        return None

    def _gone(self, writes: StateBatch, side: Side, kind: WriteKind,
              action: Action) -> Action | None:
        """The record to write was deleted on ``side``: a tombstone seen late."""
        source = other(side)
        crm_id = str(action.crm_id)
        pair = self.pairs.get(crm_id)
        writes.drop_pair(self.module, crm_id)
        if kind == "delete":
            self.outcome.done(action)
            return None
        label = "CRM" if side == CRM else "Desk"
        if self.policy.on_delete == "propagate" and pair is not None and pair.base is not None:
            # the edit being written wins over the deletion: the record is made again
            source_id = pair.id(source)
            return Action("create", self.module, side,
                          crm_id=None if side == CRM else source_id,
                          desk_id=source_id if side == CRM else None,
                          values=dict(pair.base),
                          reason=f"deleted in {label} but edited on the other side: the "
                                 "edit wins")
        writes.keep_apart(self.module, source, pair.id(source) if pair else
                          str(action.source_id()))
        self.outcome.done(Action("unlink", self.module, source, action.crm_id, action.desk_id))
        return None
