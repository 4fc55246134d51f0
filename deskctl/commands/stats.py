"""`deskctl stats`: support statistics for the portal or one CRM record."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.completion import modules
from deskctl.services.stats import StatsService


@click.command("stats")
@click.option("--module", metavar="MODULE", shell_complete=modules,
              help="Statistics of one CRM record ...")
@click.option("--record", "record_id", metavar="ID", help="... with this id.")
@pass_app
def stats(app: App, module: str | None, record_id: str | None) -> None:
    """Total and overdue tickets, average first response and resolution times, ratings.

    Durations are readable in tables and in seconds in JSON/YAML.
    """
    data = StatsService(app.backend, app.state).stats(module, record_id)
    if app.output == "table":
        data = {k: v for k, v in data.items() if not k.endswith("_seconds")}
    else:
        data = {k: v for k, v in data.items() if k not in ("avg_first_response",
                                                           "avg_resolution")}
    output.render(data, app.output)
