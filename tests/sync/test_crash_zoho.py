"""Crash acceptance on the zoho backend: real `deskctl sync run` processes talking over
loopback sockets to the sandbox served as Zoho (`sandbox serve`'s server, every request and
answer checked against Zoho's specifications), SIGKILLed at instants spread over a
bidirectional first sync and stopped by injected exits at each kind of write batch, while
the server loses the answer to some creates after carrying them out (`--lost-create-rate`).
Data changes between the kills and the reruns. The contents of both sides must equal, field
by field, those of the same seed synced without interruption (no faults) and changed the
same way (the SIGKILL series with the state in a file and in PostgreSQL). And crash +
edit: a create's answer lost, then the match key edited on either record before the rerun:
no duplicate anywhere, the edit kept.

Size: CONTACTS = 1000 seeds ~2,000 records (1,000 CRM and 533 Desk contacts, 300 CRM and
150 Desk accounts; ~2,800 once synced). Over HTTP each Desk write is its own request and
every request is checked against the OAS in this process: an uninterrupted first sync is
~1,060 requests and ~5 s unloaded, and the module reruns it ~20 times in pieces, so it
stays near a minute on a loaded 2-core machine while each kill still lands among hundreds
of writes. The 10,000-record version runs on the local backend (tests/sync/test_crash.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.seed import SeedCounts, seed
from deskctl.backends.local.server import Faults
from deskctl.state import StateStore
from deskctl.state.sync import SyncStore
from tests.sync.test_crash import (
    assert_same,
    edit_sandbox,
    first_desk,
    sandbox_contents,
    seed_sandbox,
)
from tests.sync.test_processes import env_for
from tests.zoho.conftest import CheckedEmulator, serving, zoho_env

CONTACTS = 1000
LOST_CREATES = 0.03  # share of creates whose answer the server loses after making them


@dataclass
class ServedWorld:
    """A sandbox file served as Zoho twice: ``clean`` answers everything, ``lossy`` loses
    some create answers. The sync processes reach it only through the sockets."""

    home: Path
    sandbox: LocalBackend
    emulator: CheckedEmulator
    urls: dict[str, str]
    lost: list[str]  # "POST <path>" of each create answer the lossy server lost
    state: str | None = None  # a PostgreSQL URL, or None for the home's state file

    def env(self, server: str = "clean", **extra: str) -> dict[str, str]:
        url = self.urls[server]
        return {**env_for(self.home, self.state), **zoho_env(url),
                # Desk write batches of 2 x 25: a run has several of each kind to stop after
                "DESKCTL_ZOHO_CONCURRENCY": "2", **extra}

    def deskctl(self, *args: str, server: str = "clean", **extra: str
                ) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "deskctl", *args],
                                env=self.env(server, **extra), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def sync(self, server: str = "clean", **extra: str) -> subprocess.Popen[str]:
        return self.deskctl("-o", "json", "sync", "run", server=server, **extra)

    def finish(self) -> None:
        """A run on the clean server that must end the job."""
        proc = self.sync()
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 3), err  # 3: the seed's ambiguous duplicates

    def requests(self) -> int:
        """API requests the server has taken so far (the token endpoint aside)."""
        return self.emulator.calls["crm"] + self.emulator.calls["desk"]

    def kill_after(self, proc: subprocess.Popen[str], requests: int) -> bool:
        """SIGKILL ``proc`` once the server has taken ``requests`` more requests; False if
        it ended first."""
        target = self.requests() + requests
        while self.requests() < target:
            if proc.poll() is not None:
                return False
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True

    def edit(self) -> None:
        with self.emulator.lock:  # a killed run's last request may still be in the server
            edit_sandbox(self.sandbox, self.home)

    def contents(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.emulator.lock:
            return sandbox_contents(self.sandbox)


def served_world(home: Path, contacts: int | None = CONTACTS, accounts: int = 300,
                 lost_rate: float = LOST_CREATES, state: str | None = None
                 ) -> Iterator[ServedWorld]:
    """``contacts`` None: users and portals only, for tests that make their own records."""
    sandbox = LocalBackend(home / "sandbox.db")
    os.environ["DESKCTL_NOW"] = "2026-06-01T00:00:00Z"  # every world's seed is the same
    try:
        if contacts is None:
            seed(sandbox, SeedCounts(0, 0, 0, 0, 0), random_seed=1)
        else:
            seed_sandbox(sandbox, home, contacts, accounts)
    finally:
        del os.environ["DESKCTL_NOW"]
    try:
        with serving(sandbox, Faults(), Faults(lost_create_rate=lost_rate, seed=7)) as served:
            world = ServedWorld(home, sandbox, served.emulator,
                                dict(zip(("clean", "lossy"), served.urls, strict=True)),
                                served.lost[1], state)
            for args in (("portal", "connect", "acme-support"),
                         ("sync", "configure", "--mode", "bidirectional")):
                proc = world.deskctl(*args)
                _out, err = proc.communicate(timeout=120)
                assert proc.returncode == 0, err
            yield world
    finally:
        sandbox.close()


@dataclass
class Reference:
    contents: dict[str, list[tuple[Any, ...]]]
    requests: int  # the uninterrupted first sync's API requests


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    for world in served_world(tmp_path_factory.mktemp("zoho-uninterrupted")):
        world.finish()
        requests = world.requests()
        world.edit()
        world.finish()
        result = world.contents()
        assert sum(len(v) for v in result.values()) > 1_500
        yield Reference(result, requests)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_sigkills_and_lost_create_answers_change_nothing(
        request: pytest.FixtureRequest, tmp_path: Path, store: str,
        uninterrupted: Reference) -> None:
    """The kill instants are set by the run's progress as the server sees it (its requests
    since the run started), not by a clock, so they land among the writes however loaded
    the machine is: one in the reads, then a fifth of the job apart (each rerun reads again
    before it writes, so each gets a little further). With the state in a file and in
    PostgreSQL (the reference's state is a file: the store must not change the contents)."""
    state = request.getfixturevalue("pg_url") if store == "postgresql" else None
    for world in served_world(tmp_path, state=state):
        killed = 0
        for attempt, share in enumerate((0.01, *[0.2] * 12)):
            proc = world.sync("lossy")
            if not world.kill_after(proc, max(1, int(uninterrupted.requests * share))):
                break
            killed += 1
            if attempt == 2:
                world.edit()  # data changes between a kill and the rerun
            if killed >= 6:
                break
        assert killed >= 5, "too few runs were interrupted for the test to prove anything"
        assert world.lost, "no create answer was lost"
        world.finish()
        assert_same(uninterrupted.contents, world.contents())


def test_exits_after_each_kind_of_write_batch_with_lost_answers_change_nothing(
        tmp_path: Path, uninterrupted: Reference) -> None:
    for world in served_world(tmp_path):
        points = ["state", "create-crm-sent", "create-crm", "update-crm-sent", "update-crm",
                  "create-desk-sent", "create-desk:2", "update-desk-sent", "update-desk:3"]
        missed = []
        for point in points:
            proc = world.sync("lossy", DESKCTL_TEST_EXIT_AFTER=point)
            _out, err = proc.communicate(timeout=300)
            if proc.returncode != 99:
                missed.append((point, proc.returncode, err[-300:]))
            if point == "update-crm-sent":
                world.edit()
        assert not missed, f"the injected exits {missed} were not reached"
        assert world.lost, "no create answer was lost"
        world.finish()
        assert_same(uninterrupted.contents, world.contents())


def test_every_create_answer_lost_on_both_sides_is_found_not_made_again(
        tmp_path: Path) -> None:
    """A whole run whose create answers are all lost (CRM batches and Desk creates), then a
    run with answers: the records made are found by their intents (the seed's contacts
    without email too), nothing is made twice, contents as if nothing was lost."""
    for reference in served_world(tmp_path / "reference", 60, 10, 1.0):
        reference.finish()
        expected = reference.contents()
    for world in served_world(tmp_path / "lossy", 60, 10, 1.0):
        proc = world.sync("lossy")
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 3 and "could not be synced" in err, err
        assert {path.split("/")[1] for path in world.lost} == {"crm", "api"}, world.lost
        world.finish()
        world.finish()  # and a run after that changes nothing
        assert_same(expected, world.contents())


#: module -> (CRM values, the Desk collection and values, CRM/Desk match field, new key)
RECORDS: dict[str, tuple[dict[str, Any], str, dict[str, Any], str, str, str]] = {
    "Contacts": ({"First_Name": "Ada", "Last_Name": "Ames", "Email": "ames@x.example",
                  "Phone": "+1 100"},
                 "contacts", {"firstName": "Ada", "lastName": "Ames", "email": "ames@x.example",
                              "phone": "+1 100"},
                 "Email", "email", "ames.new@x.example"),
    "Accounts": ({"Account_Name": "Acme GmbH", "Phone": "+1 200"},
                 "accounts", {"accountName": "Acme GmbH", "phone": "+1 200"},
                 "Account_Name", "accountName", "Acme Holding GmbH"),
}


@pytest.mark.parametrize("edited", ["source", "copy"])
@pytest.mark.parametrize("source", ["crm", "desk"])
@pytest.mark.parametrize("module", ["Contacts", "Accounts"])
def test_lost_create_answer_then_match_key_edited_creates_no_duplicate(
        tmp_path: Path, module: str, source: str, edited: str) -> None:
    """A record made on one side; the run copies it to the other, and that create's answer
    is lost. Before the rerun the match key (email, account name) is edited on the record
    or on its copy: the copy is found, linked and merged, the edit kept on both sides,
    nothing made twice, no intent left."""
    crm_values, kind, desk_values, crm_key, desk_key, new_value = RECORDS[module]
    for world in served_world(tmp_path, None, lost_rate=1.0):
        crm, desk = world.sandbox.crm, first_desk(world.sandbox)
        with world.emulator.lock:
            if source == "crm":
                crm.create_records(module, [crm_values])
            else:
                desk.create_record(kind, desk_values)
        proc = world.sync("lossy")
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 3 and world.lost, err  # made on the other side, unrecorded
        on_crm = (source == "crm") == (edited == "source")
        with world.emulator.lock:
            [crm_record] = crm.list_records(module)
            [desk_record] = desk.list_records(kind)
            if on_crm:
                crm.update_records(module, [(crm_record.id, {crm_key: new_value})])
            else:
                desk.update_record(kind, desk_record.id, {desk_key: new_value})
        world.finish()
        world.finish()
        with world.emulator.lock:
            [crm_after] = crm.list_records(module)  # no orphan copied back
            [desk_after] = desk.list_records(kind)  # no second create
            assert (crm_after.id, desk_after.id) == (crm_record.id, desk_record.id)
            assert crm_after.data[crm_key] == desk_after.data[desk_key] == new_value
            assert crm_after.data["Phone"] == desk_after.data["phone"] == crm_values["Phone"]
        state = StateStore(tmp_path / "state.db")
        try:
            sync = SyncStore(state)
            [pair] = sync.pairs(module).values()
            assert (pair.crm_id, pair.desk_id) == (crm_record.id, desk_record.id)
            assert sync.intents(module) == {}
        finally:
            state.close()


@pytest.mark.parametrize("source", ["crm", "desk"])
def test_lost_create_answer_then_match_key_and_name_of_the_copy_edited_creates_no_duplicate(
        tmp_path: Path, source: str) -> None:
    """As above, with the copy's email and last name both edited: the copy is still found
    (made in the create's window, read again with its Created_Time / createdTime, holding
    every other value), linked, both edits kept; nothing made twice."""
    crm_values, kind, desk_values, crm_key, desk_key, new_value = RECORDS["Contacts"]
    for world in served_world(tmp_path, None, lost_rate=1.0):
        crm, desk = world.sandbox.crm, first_desk(world.sandbox)
        with world.emulator.lock:
            if source == "crm":
                crm.create_records("Contacts", [crm_values])
            else:
                desk.create_record(kind, desk_values)
        proc = world.sync("lossy")
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 3 and world.lost, err
        with world.emulator.lock:
            [crm_record] = crm.list_records("Contacts")
            [desk_record] = desk.list_records(kind)
            if source == "desk":
                crm.update_records("Contacts", [(crm_record.id, {crm_key: new_value,
                                                                 "Last_Name": "Berg"})])
            else:
                desk.update_record(kind, desk_record.id, {desk_key: new_value,
                                                          "lastName": "Berg"})
        world.finish()
        world.finish()
        with world.emulator.lock:
            [crm_after] = crm.list_records("Contacts")
            [desk_after] = desk.list_records(kind)
            assert (crm_after.id, desk_after.id) == (crm_record.id, desk_record.id)
            assert crm_after.data[crm_key] == desk_after.data[desk_key] == new_value
            assert crm_after.data["Last_Name"] == desk_after.data["lastName"] == "Berg"


def open_intents(world: ServedWorld, module: str) -> int:
    """Creates in Desk whose intent is recorded and whose outcome is not (yet)."""
    store = StateStore(world.home / "state.db")
    try:
        return sum(1 for side, _id in SyncStore(store).intents(module) if side == "crm")
    finally:
        store.close()


def test_exits_with_the_next_batch_under_way_before_the_last_is_recorded_change_nothing(
        tmp_path: Path, uninterrupted: Reference) -> None:
    """Desk's write slots are kept busy across batches: the next batch's intents are
    recorded and its calls sent before the outcomes of the batch before it are recorded.
    Stopped at that instant (a create batch answered, recorded nowhere), the state holds
    the intents of both batches, more than one batch's worth (25 x concurrency 2); the
    reruns (stopped the same way in the Contacts, then at an update batch) end the job
    like an uninterrupted sync, field by field."""
    batch = 2 * 25
    for world in served_world(tmp_path):
        seen: dict[str, int] = {}
        for point, module in (("create-desk-sent:2", "Accounts"),
                              ("create-desk-sent:8", "Contacts"),
                              ("update-desk-sent:2", None)):
            proc = world.sync(DESKCTL_TEST_EXIT_AFTER=point)
            _out, err = proc.communicate(timeout=300)
            assert proc.returncode == 99, (point, err[-300:])
            if module:
                seen[point] = open_intents(world, module)
        for point, intents in seen.items():
            assert batch < intents <= 2 * batch, (point, intents)
        world.edit()
        world.finish()
        assert_same(uninterrupted.contents, world.contents())


def test_a_budget_spent_among_the_creates_leaves_no_intent_to_search_for(
        tmp_path: Path, uninterrupted: Reference) -> None:
    """`--max-calls` ends a run among the Desk creates, the next batch's intents recorded:
    the creates the budget stopped were never sent, so no intent stays open (each would
    cost the next run searches for a record that does not exist); the runs that follow end
    the job like an uninterrupted sync, field by field."""
    for world in served_world(tmp_path):
        proc = world.deskctl("-o", "json", "sync", "run", "--max-calls",
                             str(uninterrupted.requests * 2 // 3))
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 7, err[-300:]  # the budget is spent
        assert open_intents(world, "Contacts") == open_intents(world, "Accounts") == 0
        world.edit()
        world.finish()
        assert_same(uninterrupted.contents, world.contents())
