"""`deskctl plan` and `deskctl apply`: the integration from one YAML file, for CI."""

from __future__ import annotations

from pathlib import Path

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.errors import DeskctlError
from deskctl.services.declarative import DeclarativeService

FILE = click.Path(dir_okay=False, path_type=Path)
COLUMNS = ["item", "action", "from", "to", "refused"]


def _service(app: App) -> DeclarativeService:
    return DeclarativeService(app.backend, app.state, app.credentials, app.config)


@click.command("plan")
@click.option("-f", "--file", "path", type=FILE, required=True, help="The integration file.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there is nothing to change, 2 when there is.")
@pass_app
def plan(app: App, path: Path, detailed_exitcode: bool) -> None:
    """Show what apply would change; changes nothing.
    """
    changes = [c.to_dict() for c in _service(app).plan(path)]
    output.render(changes, app.output, COLUMNS, empty="No changes: the integration matches.")
    if changes:
        output.message(f"{len(changes)} changes; 'deskctl apply -f {path}' makes them.")
    if detailed_exitcode and changes:
        raise click.exceptions.Exit(2)


@click.command("apply")
@click.option("-f", "--file", "path", type=FILE, required=True, help="The integration file.")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option("--lock-timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Wait this long for a running sync or apply (default: config, 0).")
@pass_app
def apply(app: App, path: Path, yes: bool, lock_timeout: float | None) -> None:
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
        output.render([c.to_dict() for c in changes], "table", COLUMNS)
        if not output.stdin_is_terminal():
            raise DeskctlError("not applied: pass --yes to apply without a terminal")
        click.confirm(f"Apply these {len(changes)} changes?", abort=True, err=True)
    timeout = app.config.lock_timeout if lock_timeout is None else lock_timeout
    results = service.apply(path, timeout)
    output.render(results, app.output, ["item", "action", "to", "outcome", "detail"],
                  empty="No changes: the integration matches.")
    failed = [r for r in results if r["outcome"] == "failed"]
    if failed:
        raise DeskctlError(f"{len(failed)} of {len(results)} changes failed; fix them and "
                           "apply again (what succeeded stays)",
                           [f"{r['item']}: {r['detail']}" for r in failed])
