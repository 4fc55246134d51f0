"""`deskctl plan` and `deskctl apply`: the integration from one YAML file, for CI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.options import confirm, lock_timeout_option
from deskctl.errors import DeskctlError
from deskctl.services.declarative import DeclarativeService

FILE = click.Path(dir_okay=False, allow_dash=True, path_type=Path)
FILE_HELP = "The integration file (- reads it from stdin)."


def _count(changes: list[Any], one: str = "", many: str = "") -> str:
    """'1 change', '2 changes' (with an optional word before: 'this 1 change')."""
    words = (one if len(changes) == 1 else many, str(len(changes)),
             "change" if len(changes) == 1 else "changes")
    return " ".join(w for w in words if w)


def _service(app: App) -> DeclarativeService:
    return DeclarativeService(app.backend, app.state, app.credentials, app.config)


@click.command("plan")
@click.option("-f", "--file", "path", type=FILE, required=True, help=FILE_HELP)
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there is nothing to change, 2 when there is (1 when apply "
                   "would refuse an item, as always).")
@pass_app
def plan(app: App, path: Path, detailed_exitcode: bool) -> None:
    """Show what apply would change; changes nothing.
    """
    changes = [c.to_dict() for c in _service(app).plan(path)]
    output.render(changes, app.output, "plan", empty="No changes: the integration matches.")
    refused = [c for c in changes if c.get("refused")]
    if refused:  # as terraform: a plan that cannot be applied as a whole is an error
        raise DeskctlError(f"{_count(changes)}, of which apply would refuse {len(refused)}",
                           [f"{c['item']}: {c['refused']}" for c in refused])
    if changes:
        output.message(f"{_count(changes)}; 'deskctl apply -f {path}' makes them.")
    if detailed_exitcode and changes:
        raise click.exceptions.Exit(2)


@click.command("apply")
@click.option("-f", "--file", "path", type=FILE, required=True, help=FILE_HELP)
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@lock_timeout_option("Wait this long for a running sync or apply")
@pass_app
def apply(app: App, path: Path, yes: bool) -> None:
    """Make the integration match the file (admin only; idempotent).

    Each change goes through the same rules as the commands (one portal, pause-only sync,
    email fields); a failed item does not stop the others, and a rerun completes the rest.
    """
    service = _service(app)
    if not yes:
        changes = service.plan(path)
        if not changes:
            output.message("No changes: the integration matches.")
            return
        output.render([c.to_dict() for c in changes], "table", "plan")
        confirm(f"Apply {_count(changes, 'this', 'these')}?", "not applied")
    results = service.apply(path, app.config.lock_timeout)
    output.render(results, app.output, "apply",
                  empty="No changes: the integration matches.")
    failed = [r for r in results if r["outcome"] == "failed"]
    if failed:
        raise DeskctlError(f"{len(failed)} of {len(results)} changes failed; fix them and "
                           "apply again (what succeeded stays)",
                           [f"{r['item']}: {r['detail']}" for r in failed])
