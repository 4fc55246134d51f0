"""`deskctl audit`: the log of every change deskctl made."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.options import limit_option


@click.command("audit")
@limit_option
@pass_app
def audit(app: App, limit: int | None) -> None:
    """List the changes deskctl made: who, what, when (newest first).
    """
    output.render(app.state.audit_entries(limit), app.output, "audit",
                  empty="No changes recorded.")
