"""`deskctl related-list`: which CRM modules show tickets in their related list."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.completion import modules
from deskctl.commands.options import report_change
from deskctl.services.settings import SettingsService


@click.group("related-list")
def related_list_group() -> None:
    """Choose the CRM modules whose records show their tickets (admin only).

    Accounts, Contacts and Deals are enabled by default; other modules need an enabled
    email field.

    \b
    Examples:
      deskctl related-list list
      deskctl related-list enable Partners
      deskctl related-list disable Deals
    """


@related_list_group.command("list")
@pass_app
def list_(app: App) -> None:
    """Each CRM module: tickets shown, email field, and whether it can be enabled."""
    output.render(SettingsService(app.backend, app.state).related_lists(), app.output)


@related_list_group.command("enable")
@click.argument("module", shell_complete=modules)
@pass_app
def enable(app: App, module: str) -> None:
    """Show tickets in a module's related list."""
    result = SettingsService(app.backend, app.state).set_related_list(module, True)
    report_change(app.output, result, f"Tickets are now shown in {result['module']}.",
                    f"{result['module']} already shows tickets; nothing changed.")


@related_list_group.command("disable")
@click.argument("module", shell_complete=modules)
@pass_app
def disable(app: App, module: str) -> None:
    """Stop showing tickets in a module's related list."""
    result = SettingsService(app.backend, app.state).set_related_list(module, False)
    report_change(app.output, result, f"Tickets are no longer shown in {result['module']}.",
                    f"{result['module']} does not show tickets; nothing changed.")
