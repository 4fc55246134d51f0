"""`deskctl users`: CRM users and Desk agents, invitations and roles."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.completion import users
from deskctl.errors import DeskctlError
from deskctl.models.people import ROLES
from deskctl.services.users import INVITE_FAILURES, UsersService

ROLE = click.Choice(ROLES)


@click.group("users")
def users_group() -> None:
    """CRM users and their Desk accounts.

    \b
    Examples:
      deskctl users list
      deskctl users invite sam.sales@acme.example lena@acme.example --role agent
      deskctl users set-role lena@acme.example --role light-agent
    """


@users_group.command("list")
@pass_app
def list_(app: App) -> None:
    """CRM users with their Desk status; 'both sides' = CRM user and active agent."""
    output.render(UsersService(app.backend, app.state).roster(), app.output)


@users_group.command("invite")
@click.argument("emails", nargs=-1, required=True, metavar="EMAIL...", shell_complete=users)
@click.option("--role", type=ROLE, required=True, help="Desk role of the invited users.")
@pass_app
def invite(app: App, emails: tuple[str, ...], role: str) -> None:
    """Invite CRM users to Desk with a role (admin only). A rerun invites only the rest."""
    results = UsersService(app.backend, app.state).invite(list(emails), role)
    output.render(results, app.output)
    failed = [r for r in results if r["outcome"] in INVITE_FAILURES]
    if failed:
        raise DeskctlError(f"{len(failed)} of {len(results)} users could not be invited",
                           [f"{r['email']}: {r['detail']}" for r in failed])


@users_group.command("set-role")
@click.argument("email", shell_complete=users)
@click.option("--role", type=ROLE, required=True, help="The new Desk role.")
@click.option("--force", is_flag=True, help="Demote the portal's only active Desk admin.")
@pass_app
def set_role(app: App, email: str, role: str, force: bool) -> None:
    """Change the Desk role of an agent or a pending invitation (admin only)."""
    result = UsersService(app.backend, app.state).set_role(email, role, force)
    output.render(result, app.output)
