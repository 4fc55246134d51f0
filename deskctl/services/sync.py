"""Sync settings and runs: configure (mode fixed once enabled), pause/resume, run under the
run lock, status, record errors, conflicts and their resolution."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, get_args

from deskctl import clock
from deskctl.backends.meter import CallMeter
from deskctl.errors import ApiLimitReached, ConfigError, NotFound, RuleViolation, UsageError
from deskctl.models.integration import Integration
from deskctl.models.sync import ConflictPolicy, Mode, OnDelete
from deskctl.progress import Progress
from deskctl.services.access import integration, require_admin
from deskctl.services.locking import exclusive, hold, interruptible

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.config import Config
    from deskctl.state import StateStore
    from deskctl.sync.mapping import ModuleMapping
    from deskctl.sync.run import RunOptions

MODES: tuple[str, ...] = get_args(Mode)
CONFLICTS: tuple[str, ...] = get_args(ConflictPolicy)
ON_DELETE: tuple[str, ...] = get_args(OnDelete)
NOT_CONFIGURED = "sync is not configured: run 'deskctl sync configure --mode one-way' " \
                 "(or bidirectional) first"


class SyncService:
    def __init__(self, backend: Backend, state: StateStore, config: Config) -> None:
        self.backend = backend
        self.state = state
        self.config = config

    def _active(self) -> Integration:
        return integration(self.state).require_active()

    def settings(self) -> dict[str, Any] | None:
        return self.state.get("sync")

    def mappings(self) -> dict[str, ModuleMapping]:
        """The configured mapping, checked against both sides' field metadata."""
        from deskctl.sync.mapping import DESK_KIND, MODULES, build_mappings

        desk = self.backend.desk(str(self._active().portal_id))
        crm_meta = {m: self.backend.crm.module(m) for m in MODULES}
        desk_meta = {DESK_KIND[m]: desk.fields(DESK_KIND[m]) for m in MODULES}
        source = self.config.sources.get("sync.mapping", "default")
        mappings = build_mappings(self.config.get("sync.mapping"), crm_meta, desk_meta, source)
        limit = self.backend.crm.max_read_fields  # Zoho CRM: 50 fields per read
        for module, mapping in mappings.items():
            if limit is not None and len(mapping.fields) + 1 > limit:
                raise ConfigError(
                    f"{source}: sync.mapping.{module}: {len(mapping.fields)} mapped fields, "
                    f"but the {self.backend.name} backend reads at most {limit} fields per "
                    f"request, Modified_Time included: map at most {limit - 1}")
        return mappings

    @exclusive("sync configure")
    def configure(self, mode: str | None, conflict: str | None,
                  on_delete: str | None) -> dict[str, Any]:
        for name, value, allowed in (("mode", mode, MODES), ("conflict", conflict, CONFLICTS),
                                     ("on-delete", on_delete, ON_DELETE)):
            if value is not None and value not in allowed:
                raise UsageError(f"--{name} is one of {', '.join(allowed)}, not {value!r}")
        me = require_admin(self.backend, "configure the sync")
        self._active()
        current = self.settings()
        if current is None and mode is None:
            raise UsageError("choose the sync mode with --mode one-way|bidirectional")
        if current is not None and mode is not None and mode != current["mode"]:
            raise RuleViolation(f"the sync is enabled in {current['mode']} mode, and once "
                                "enabled it can only be paused; to choose another mode, "
                                "deactivate the integration and set it up again")
        mode = mode or current["mode"]  # type: ignore[index]
        if mode == "one-way" and conflict not in (None, "crm-wins"):
            raise RuleViolation("one-way sync never writes to the CRM, so the CRM always "
                                "wins; --conflict applies to bidirectional sync only")
        self.mappings()  # a bad mapping is reported before the sync is enabled
        default_conflict = "crm-wins" if mode == "one-way" else "newest"
        updated = {
            "mode": mode,
            "conflict": conflict or (current or {}).get("conflict") or default_conflict,
            "on_delete": on_delete or (current or {}).get("on_delete") or "unlink",
            "paused": (current or {}).get("paused", False),
            "enabled_at": (current or {}).get("enabled_at") or clock.now_iso(),
            "enabled_by": (current or {}).get("enabled_by") or me.email,
        }
        changed = updated != current
        if changed:
            with self.state.transaction():
                self.state.put("sync", updated)
                self.state.audit(me.email, "sync.configure", mode,
                                 {k: updated[k] for k in ("mode", "conflict", "on_delete")})
        return {**updated, "changed": changed}

    @exclusive("sync pause/resume")
    def set_paused(self, paused: bool) -> dict[str, Any]:
        me = require_admin(self.backend, "pause or resume the sync")
        self._active()
        current = self.settings()
        if current is None:
            raise RuleViolation(NOT_CONFIGURED)
        changed = current["paused"] != paused
        updated = {**current, "paused": paused}
        if changed:
            with self.state.transaction():
                self.state.put("sync", updated)
                self.state.audit(me.email, "sync.pause" if paused else "sync.resume", "")
        return {**updated, "changed": changed}

    def run(self, options: RunOptions, lock_timeout: float,
            progress: Progress | None = None) -> dict[str, Any]:
        """One run. Options and the role are checked before anything is read; the lock is
        taken before the integration's state is read, so a portal switch or a deactivation
        either waits for the run or makes it wait, never half of each."""
        from deskctl.sync.guards import parse_max_delete

        parse_max_delete(options.max_delete)
        require_admin(self.backend, "run the sync" + (" with --force" if options.force else ""))
        # the backend's own meter counts its HTTP requests; else the engine counts calls
        meter = self.backend.crm.meter or CallMeter()
        if options.dry_run:  # reads only: no lock, no state written
            with meter.budget(options.max_calls):
                return self._run(options, progress, meter)
        with interruptible(), hold(self.state, "sync run", lock_timeout), \
                meter.budget(options.max_calls):
            return self._run(options, progress, meter)

    def _run(self, options: RunOptions, progress: Progress | None,
             meter: CallMeter) -> dict[str, Any]:
        from deskctl.state.sync import SyncStore
        from deskctl.sync.guards import AbortedRun
        from deskctl.sync.merge import Policy
        from deskctl.sync.run import SyncRun

        calls_before = meter.total
        current = self._active()
        settings = self.settings()
        if settings is None:
            raise RuleViolation(NOT_CONFIGURED)
        if settings["paused"]:
            return {"paused": True}
        mappings = self.mappings()
        actor = self.backend.crm.current_user().email
        policy = Policy(settings["mode"], settings["conflict"], settings["on_delete"])
        sync = SyncStore(self.state)
        warnings = [] if "desk-tombstones" in self.backend.capabilities else [
            f"the {self.backend.name} backend has no feed of records deleted in Desk: "
            "deletions made in Desk are not synced"]
        desk = self.backend.desk(str(current.portal_id))
        setup = meter.total - calls_before  # who acts, field metadata: 0 on local
        if options.dry_run:
            engine = SyncRun(self.backend.crm, desk, sync, mappings, policy, options, progress,
                             meter)
            report = {"mode": policy.mode, **engine.execute(), "warnings": warnings}
            report["api_calls"]["setup"] = setup
            return report
        try:
            run_id = sync.start_run()
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM, SIGHUP once its row was written, maybe:
            sync.close_interrupted_runs()  # we hold the lock, so a run left running is this one
            raise
        try:
            engine = SyncRun(self.backend.crm, desk, sync, mappings, policy, options,
                             Alive(sync, run_id, progress or Progress()), meter)
            report = {"mode": policy.mode, **engine.execute(), "warnings": warnings}
            report["api_calls"]["setup"] = setup
        except KeyboardInterrupt as exc:
            sync.finish_run(run_id, "interrupted", {"reason": str(exc) or "SIGINT"})
            raise
        except AbortedRun as exc:
            sync.finish_run(run_id, "aborted", {"reason": exc.message})
            raise
        except ApiLimitReached as exc:  # progress kept: the next run resumes
            sync.finish_run(run_id, "api-limit", {"reason": exc.message})
            raise
        except Exception as exc:
            sync.finish_run(run_id, "failed", {"reason": str(exc)})
            raise
        outcome = "incomplete" if report["errors"] or report["conflicts"] else "ok"
        report["outcome"] = outcome
        summary = {m: r["counts"] for m, r in report["modules"].items()}
        sync.finish_run(run_id, outcome, {"counts": summary, "errors": report["errors"],
                                          "conflicts": report["conflicts"]})
        self.state.audit(actor, "sync.run", policy.mode, {"outcome": outcome, "counts": summary})
        return report

    def status(self) -> dict[str, Any]:
        from deskctl.state.sync import SyncStore

        current = integration(self.state)
        settings = self.settings()
        sync = SyncStore(self.state)
        return {"integration": current.status,
                "mode": settings["mode"] if settings else None,
                "state": ("paused" if settings["paused"] else "active") if settings
                else "not-configured",
                "conflict": settings["conflict"] if settings else None,
                "on_delete": settings["on_delete"] if settings else None,
                "pairs": sync.link_counts(),
                "open_conflicts": len(sync.conflicts()),
                "errors": len(sync.errors()),
                "last_run": sync.last_sync_run(),
                "ignored": sync.ignored(),
                "cursors": sync.all_cursors()}

    def errors(self, module: str | None = None) -> list[dict[str, Any]]:
        from deskctl.state.sync import SyncStore

        return SyncStore(self.state).errors(module)

    def errors_page(self, module: str | None,
                    limit: int | None) -> tuple[list[dict[str, Any]], int]:
        """At most ``limit`` record errors (of one module), and how many there are."""
        rows = self.errors(module)
        return rows[:limit] if limit else rows, len(rows)

    def conflicts(self) -> list[dict[str, Any]]:
        from deskctl.state.sync import SyncStore

        return SyncStore(self.state).conflicts()

    @exclusive("sync resolve")
    def resolve(self, conflict_id: int, take: str,
                fields: tuple[str, ...] = ()) -> dict[str, Any]:
        """Take one side's values for some conflicting fields (default: all of them): the
        pair records its new base with the write it owes the other side, then writes it
        (a failed or interrupted write is finished by the next run)."""
        from dataclasses import replace

        from deskctl.models.sync import other
        from deskctl.state.sync import SyncStore
        from deskctl.sync.execute import AccountLinks, Executor
        from deskctl.sync.merge import Policy
        from deskctl.sync.plan import Action
        from deskctl.sync.side import sides_for

        me = require_admin(self.backend, "resolve sync conflicts")
        current = self._active()
        sync = SyncStore(self.state)
        conflict = next((c for c in sync.conflicts() if c["id"] == conflict_id), None)
        if conflict is None:
            raise NotFound(f"no open conflict with id {conflict_id} (see 'deskctl sync "
                           "conflicts')")
        module, crm_id = conflict["module"], conflict["crm_id"]
        open_fields = sync.open_conflicts(module).get(crm_id, {})
        unknown = [f for f in fields if f not in open_fields]
        if unknown:
            raise UsageError(f"--field {unknown[0]} is not in conflict {conflict_id} "
                             f"(its fields: {', '.join(sorted(open_fields))})")
        chosen = list(fields) or sorted(open_fields)
        pairs = sync.pairs_for(module, "crm", [crm_id])
        if not pairs or pairs[0].base is None:
            raise NotFound(f"conflict {conflict_id} has no synced pair any more")
        pair = pairs[0]
        loser = other(take)  # type: ignore[arg-type]
        pick = 0 if take == "crm" else 1
        theirs = {**pair.base, **pair.held.get(loser, {}),  # type: ignore[dict-item]
                  **{f: v[1 - pick] for f, v in open_fields.items()}}
        taken = {f: open_fields[f][pick] for f in chosen}
        remaining = {f: v for f, v in open_fields.items() if f not in taken}
        settled = replace(pair, base={**(pair.base or {}), **taken},
                          held={**pair.held, loser: theirs})
        # the loser gets the chosen values and whatever else the pair still owes it (a run
        # killed, or a write rejected, before paying it): the write pays all of it
        owed = {f: v for f, v in (settled.base or {}).items()
                if f not in remaining and theirs.get(f) != v}
        settings = self.settings() or {}
        policy = Policy(settings.get("mode", "bidirectional"),
                        settings.get("conflict", "manual"),
                        settings.get("on_delete", "unlink"))
        actions = [Action("settle", module, None, crm_id, conflict["desk_id"], pair=settled,
                          conflicts=remaining, closes=not remaining,
                          reason=f"conflict resolved: {take} wins"),
                   Action("update", module, loser, crm_id, conflict["desk_id"], owed,
                          reason=f"conflict resolved: {take} wins")]
        mapping = self.mappings()[module]
        sides = sides_for(self.backend.crm, self.backend.desk(str(current.portal_id)), module,
                          mapping.kind)
        outcome = Executor(sides, sync, mapping, AccountLinks.of(sync),
                           policy).apply(actions)
        with self.state.transaction():
            self.state.audit(me.email, "sync.resolve", f"{module}/{crm_id}",
                             {"take": take, "fields": chosen})
        if outcome.failed:
            raise RuleViolation(f"the {take} values are recorded but could not be written "
                                f"to {loser}: {outcome.failed[0][1]}; the next 'deskctl sync "
                                "run' tries again")
        return {"id": conflict_id, "module": module, "took": take, "fields": chosen,
                "values": taken, "still_open": sorted(remaining)}


class Alive(Progress):
    """Passes progress on, noting (at most every 2 s) that the run is alive: a run killed
    with SIGKILL is recorded as interrupted at its last sign of life."""

    def __init__(self, sync: Any, run_id: int, inner: Progress) -> None:
        self.sync, self.run_id, self.inner = sync, run_id, inner
        self.last = time.monotonic()

    def _beat(self) -> None:
        if time.monotonic() - self.last >= 2:
            self.sync.heartbeat(self.run_id)
            self.last = time.monotonic()

    def phase(self, name: str, counts: Mapping[str, int] | None = None) -> None:
        self._beat()
        self.inner.phase(name, counts)

    def advance(self, done: int, total: int) -> None:
        self._beat()
        self.inner.advance(done, total)

    def close(self) -> None:
        self.inner.close()
