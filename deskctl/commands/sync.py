"""`deskctl sync`: configure, run (for cron), pause/resume, status, errors, conflicts."""

from __future__ import annotations

from typing import Any

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.options import (
    changed_message,
    limit_option,
    lock_timeout_option,
    report_change,
)
from deskctl.errors import SyncIncomplete
from deskctl.services.matches import MatchService
from deskctl.services.sync import CONFLICTS, MODES, ON_DELETE, SyncService


def _service(app: App) -> SyncService:
    return SyncService(app.backend, app.state, app.config)


@click.group("sync")
def sync_group() -> None:
    """Keep CRM Accounts and Contacts in sync with Desk (one-way or both ways).

    \b
    Examples:
      deskctl sync configure --mode bidirectional --conflict newest
      deskctl sync run --dry-run
      deskctl sync run --lock-timeout 60           # from cron
      deskctl sync status -o json
      deskctl sync conflicts
      deskctl sync resolve 3 --take crm
    """


@sync_group.command("configure")
@click.option("--mode", type=click.Choice(MODES), help="Fixed once enabled (pause-only).")
@click.option("--conflict", type=click.Choice(CONFLICTS),
              help="Both sides changed differently: who wins (default newest; one-way: crm).")
@click.option("--on-delete", type=click.Choice(ON_DELETE),
              help="A record deleted on one side: forget the pair (unlink, default) or delete "
                   "it on the other side too (propagate).")
@pass_app
def configure(app: App, mode: str | None, conflict: str | None, on_delete: str | None) -> None:
    """Enable the sync or change its policies (admin only)."""
    result = _service(app).configure(mode, conflict, on_delete)
    output.render({k: v for k, v in result.items() if k != "changed"}, app.output)
    changed_message(result, "Sync settings saved.", "Sync settings unchanged.")


def _summary_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for module, data in report["modules"].items():
        counts = data["counts"]
        for direction, side in (("crm->desk", "desk"), ("desk->crm", "crm")):
            rows.append({"module": module, "direction": direction,
                         "created": counts.get(f"create->{side}", 0),
                         "updated": counts.get(f"update->{side}", 0),
                         "deleted": counts.get(f"delete->{side}", 0)})
        rows.append({"module": module, "direction": "links",
                     "created": f"linked {counts.get('link', 0)}",
                     "updated": f"unlinked {counts.get('unlink', 0)}",
                     "deleted": f"conflicts {counts.get('conflict', 0)}"})
    return rows


def _max_delete(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """Parsed before anything runs, so a bad value never starts a sync."""
    from deskctl.errors import UsageError
    from deskctl.sync.guards import parse_max_delete

    try:
        parse_max_delete(value)
    except UsageError as exc:
        raise click.BadParameter(exc.message.removeprefix("--max-delete ")) from None
    return value


@sync_group.command("run")
@click.option("--dry-run", is_flag=True,
              help="Print the plan and the record errors and open conflicts the run would "
                   "leave; change nothing, not even state.")
@click.option("--module", "modules", multiple=True, type=click.Choice(["Accounts", "Contacts"]),
              help="Only this module (repeatable; default both).")
@click.option("--full", is_flag=True, help="Read everything, not only what changed.")
@click.option("--max-delete", default="10%", show_default=True, metavar="N|P%",
              callback=_max_delete,
              help="Abort before deleting more than this many (or this share) of a module's "
                   "synced records.")
@click.option("--force", is_flag=True, help="Delete past --max-delete (admin only, like every "
                                            "run).")
@click.option("--max-calls", type=click.IntRange(min=1), metavar="N",
              help="Stop after N API calls (HTTP requests on zoho), keeping all progress; "
                   "exit 7. The next run goes on from there.")
@lock_timeout_option("Wait this long for another run to finish")
@pass_app
def run(app: App, dry_run: bool, modules: tuple[str, ...], full: bool, max_delete: str,
        force: bool, max_calls: int | None) -> None:
    """Sync what changed since the last run (made for cron; CRM administrators only).

    Exit codes: 0 done, 3 done with record errors or open conflicts, 4 another run or state
    change holds the lock, 6 not a CRM administrator, 7 Zoho's daily limit or --max-calls
    reached (progress kept). Paused: does nothing and exits 0.
    """
    from deskctl.sync.mapping import MODULES
    from deskctl.sync.run import RunOptions

    ordered = tuple(m for m in MODULES if not modules or m in modules)
    options = RunOptions(dry_run=dry_run, modules=ordered, full=full, max_delete=max_delete,
                         force=force, overlap_seconds=int(app.config.get("sync.overlap_seconds")),
                         max_calls=max_calls)
    with output.progress() as progress:
        report = _service(app).run(options, app.config.lock_timeout, progress)
    if report.get("paused"):
        output.message("The sync is paused; nothing done ('deskctl sync resume' to resume).")
        if app.output != "table":
            output.render(report, app.output)
        return
    if app.output != "table":
        output.render(report, app.output)
    elif dry_run:
        actions = [a for m in report["modules"].values() for a in m["actions"]]
        output.render(actions, "table", "sync plan", empty="Nothing to do.")
    else:
        output.render(_summary_rows(report), "table")
    for warning in report["warnings"]:
        output.warn(warning)
    calls = report["api_calls"]
    setup = f", setup {calls['setup']}" if calls.get("setup") else ""
    output.message(f"{'Plan: the run would leave' if dry_run else 'Done:'} "
                   f"{report['conflicts']} open conflicts, "
                   f"{report['errors']} record errors; API calls: CRM {calls['crm_reads']} "
                   f"reads + {calls['crm_writes']} writes, Desk {calls['desk_reads']} reads + "
                   f"{calls['desk_writes']} writes{setup}; {report['duration_seconds']}s.")
    if report.get("outcome") == "incomplete":  # the service's verdict; dry runs have none
        raise SyncIncomplete(f"{report['errors']} records could not be synced and "
                             f"{report['conflicts']} conflicts are open; see 'deskctl sync "
                             "errors' and 'deskctl sync conflicts'")


@sync_group.command("pause")
@pass_app
def pause(app: App) -> None:
    """Pause the sync (runs do nothing until resumed)."""
    report_change(app.output, _service(app).set_paused(True), "Sync paused.",
                  "The sync is already paused.")


@sync_group.command("resume")
@pass_app
def resume(app: App) -> None:
    """Resume a paused sync."""
    report_change(app.output, _service(app).set_paused(False), "Sync resumed.",
                  "The sync is not paused.")


@sync_group.command("status")
@pass_app
def status(app: App) -> None:
    """Mode, paused or active, last run, cursors, pairs, open conflicts and errors."""
    output.render(_service(app).status(), app.output)


@sync_group.command("errors")
@click.option("--module", type=click.Choice(["Accounts", "Contacts"]),
              help="Only this module's record errors.")
@limit_option
@pass_app
def errors(app: App, module: str | None, limit: int | None) -> None:
    """Records the other side rejected; retried on every run until they sync."""
    rows, total = _service(app).errors_page(module, limit)
    output.render(rows, app.output, "sync errors", empty="No record errors.")
    if len(rows) < total:
        output.message(f"Showing {len(rows)} of {total} record errors.")


@sync_group.command("conflicts")
@pass_app
def conflicts(app: App) -> None:
    """Pairs changed differently on both sides, waiting for 'sync resolve'."""
    output.render(_service(app).conflicts(), app.output, "sync conflicts",
                  empty="No conflicts.")


@sync_group.command("resolve")
@click.argument("conflict_id", metavar="ID", type=int)
@click.option("--take", type=click.Choice(["crm", "desk"]), required=True,
              help="The side whose values win.")
@click.option("--field", "fields", multiple=True, metavar="FIELD",
              help="Only this conflicting field (repeatable; default: all of them).")
@pass_app
def resolve(app: App, conflict_id: int, take: str, fields: tuple[str, ...]) -> None:
    """Resolve a conflict by taking one side's values, for every conflicting field or
    only some (admin only).
    """
    output.render(_service(app).resolve(conflict_id, take, fields), app.output)


def _matches(app: App) -> MatchService:
    return MatchService(app.backend, app.state, app.config)


MODULE_OPTION = click.option("--module", type=click.Choice(["Accounts", "Contacts"]),
                             default="Contacts", show_default=True,
                             help="The module of the records.")


@sync_group.command("link")
@click.argument("crm_id")
@click.argument("desk_id")
@MODULE_OPTION
@pass_app
def link(app: App, crm_id: str, desk_id: str, module: str) -> None:
    """Pair a CRM record and a Desk record by hand (admin only).

    For an ambiguous match, or two records the sync cannot match (different emails). The
    next 'sync run' merges them like a first link: a blank field takes the other side's
    value, fields that differ go to the conflict policy.
    """
    result = _matches(app).link(module, crm_id, desk_id)
    output.render(result, app.output)
    changed_message(result, f"Linked CRM {crm_id} and Desk {desk_id}; the next "
                    "'deskctl sync run' merges them.",
                    f"CRM {crm_id} and Desk {desk_id} are already paired; nothing changed.")


@sync_group.command("ignore")
@click.argument("record_id", metavar="CRM_ID|DESK_ID")
@MODULE_OPTION
@click.option("--side", type=click.Choice(["crm", "desk"]),
              help="Whose id it is (only needed when both sides have a record with it).")
@click.option("--undo", is_flag=True, help="Take the record back into the sync.")
@pass_app
def ignore(app: App, record_id: str, module: str, side: str | None, undo: bool) -> None:
    """Leave a record out of the sync, or take it back with --undo (admin only).

    An ignored record is never matched, copied, updated or deleted by the sync; a paired
    one is unpaired first (its counterpart is kept apart too; nothing is deleted). 'sync
    status' lists the ignored records.
    """
    result = _matches(app).ignore(module, record_id, side, undo)  # type: ignore[arg-type]
    output.render(result, app.output)
    done = "Taken back into the sync" if undo else "Ignored by the sync"
    changed_message(result, f"{done}: {result['side']} {module} {record_id}.",
                    f"Nothing changed: {result['side']} {module} {record_id} is "
                    f"{'not ' if undo else ''}ignored already.")
