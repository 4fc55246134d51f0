"""`deskctl state`: check the state store, or move it to another file or database."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.options import lock_timeout_option
from deskctl.errors import DeskctlError
from deskctl.services.state import StateService


@click.group("state")
def state_group() -> None:
    """Check the state store, or move it to another file or PostgreSQL database.

    \b
    Examples:
      deskctl state check
      deskctl state migrate --to postgresql://deskctl@db.internal:5432/deskctl
      deskctl state migrate --to ~/.local/share/deskctl/default/state.db --force
    """


@state_group.command("check")
@pass_app
def check(app: App) -> None:
    """Report the schema version, the rows per table and any problem (exit 1).

    Problems: integrity, missing tables or columns, and each table, column and row whose
    JSON does not decode.
    """
    report = StateService(app.state, app.config.profile).check()
    output.render(report, app.output)
    if report["problems"]:
        raise DeskctlError(f"the state at {report['location']} has problems",
                           report["problems"])


@state_group.command("migrate")
@click.option("--to", "to", required=True, metavar="PATH|URL",
              help="Target: a state file path or postgresql://user@host:port/dbname.")
@click.option("--force", is_flag=True, help="Replace the target's state if it has any.")
@lock_timeout_option("Wait this long for a running sync to finish")
@pass_app
def migrate(app: App, to: str, force: bool) -> None:
    """Copy this profile's whole state to another file or database and verify the copy.

    The source is left as it is; afterwards point the `state` setting (or DESKCTL_STATE)
    at the target. A target that already holds state is refused without --force.
    """
    result = StateService(app.state, app.config.profile).migrate(to, force,
                                                                 app.config.lock_timeout)
    output.render(result, app.output)
    output.message(f"Copied {result['rows']} rows to {result['to']} and verified them; set "
                   "`state:` (or DESKCTL_STATE) to it to use it.")
