"""`deskctl tab`: the CRM's Desk tab."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.options import report_change
from deskctl.services.settings import SettingsService


@click.group("tab")
def tab_group() -> None:
    """The CRM's Desk tab, shown only to users with an active Desk account (admin only).

    \b
    Examples:
      deskctl tab status
      deskctl tab remove
      deskctl tab restore
    """


@tab_group.command("status")
@pass_app
def status(app: App) -> None:
    """Whether the tab is shown, and to whom."""
    output.render(SettingsService(app.backend, app.state).tab_status(), app.output)


@tab_group.command("remove")
@pass_app
def remove(app: App) -> None:
    """Remove the Desk tab from the CRM."""
    result = SettingsService(app.backend, app.state).set_tab(False)
    report_change(app.output, result, "Removed the Desk tab.", "The Desk tab is already removed.")


@tab_group.command("restore")
@pass_app
def restore(app: App) -> None:
    """Restore the Desk tab in the CRM."""
    result = SettingsService(app.backend, app.state).set_tab(True)
    report_change(app.output, result, "Restored the Desk tab.", "The Desk tab is already shown.")
