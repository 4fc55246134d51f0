"""`deskctl completion`: the shell completion script, and the completers that offer names
(portals, CRM modules, users, profiles) while a command line is being typed.

Completion runs on every TAB, so completers answer only from local files: the config and
the local backend's sandbox file. They never create a file, never ask for credentials and
never call Zoho: on the zoho backend they offer Zoho's standard CRM module names and no
portal or user names (each would cost a request and a token refresh per TAB). Any failure
offers nothing rather than printing an error into the user's prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from deskctl.app import App
    from deskctl.backends.local import LocalBackend

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_DESKCTL_COMPLETE"
# Zoho CRM's standard modules by API name (the list in
# https://www.zoho.com/crm/help/api/modules-fields.html, spelt as GET /crm/v8/settings/modules
# returns them: https://www.zoho.com/crm/developer/docs/api/v8/modules-api.html); custom
# modules are not known without that request, so on zoho they are not offered
STANDARD_MODULES = ("Leads", "Accounts", "Contacts", "Deals", "Campaigns", "Cases",
                    "Solutions", "Products", "Price_Books", "Quotes", "Invoices",
                    "Sales_Orders", "Vendors", "Purchase_Orders", "Events", "Tasks", "Calls")

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _app(ctx: click.Context) -> App:
    """The global options typed so far (the root command does not run while completing)."""
    from deskctl.app import App

    params = ctx.find_root().params
    return App(config_file=params.get("config_file"), profile=params.get("profile"),
               flags={"backend": params.get("backend"), "user": params.get("acting_user")})


def _sandbox(app: App) -> LocalBackend | None:
    """The local backend's sandbox, if that is the backend and its file exists."""
    from deskctl.backends.local import LocalBackend

    if app.config.backend != "local" or not app.config.local_path.is_file():
        return None
    return LocalBackend(app.config.local_path)


def completer(names: Callable[[App], Iterable[str]]) -> Completer:
    """A click completer offering ``names(app)`` that start with what was typed."""

    def complete(ctx: click.Context, _param: click.Parameter,
                 incomplete: str) -> list[CompletionItem]:
        app = _app(ctx)
        try:
            found = list(names(app))
        except Exception:  # a broken config or file: offer nothing, print nothing
            return []
        finally:
            app.close()
        typed = incomplete.lower()
        return [CompletionItem(n) for n in dict.fromkeys(found) if n.lower().startswith(typed)]

    return complete


def _portals(app: App) -> list[str]:
    sandbox = _sandbox(app)
    if sandbox is None:
        return []
    try:
        return [p.name for p in sandbox.all_portals()]
    finally:
        sandbox.close()


def _modules(app: App) -> list[str]:
    sandbox = _sandbox(app)
    if sandbox is None:
        return list(STANDARD_MODULES) if app.config.backend == "zoho" else []
    try:
        return [m.api_name for m in sandbox.crm.modules()]
    finally:
        sandbox.close()


def _users(app: App) -> list[str]:
    sandbox = _sandbox(app)
    if sandbox is None:
        return []
    try:
        return [u.email for u in sandbox.crm.users()]
    finally:
        sandbox.close()


def _profiles(app: App) -> list[str]:
    from deskctl.config import load_config

    return list(load_config(app.config_file).profiles)


def _backends(_app: App) -> list[str]:
    from deskctl.backends import available

    return sorted(available())


portals = completer(_portals)
modules = completer(_modules)
users = completer(_users)
profiles = completer(_profiles)
backends = completer(_backends)


@click.command("completion", epilog="""\b
Examples:
  eval "$(deskctl completion bash)"     # in ~/.bashrc
  eval "$(deskctl completion zsh)"      # in ~/.zshrc
  deskctl completion fish > ~/.config/fish/completions/deskctl.fish
  deskctl completion bash > ~/.local/share/bash-completion/completions/deskctl
""")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    Completes commands, options and choices, and names known locally: the sandbox's
    portals, CRM modules and users (--as), the config file's profiles, the backends. On
    the zoho backend no request is made while completing: Zoho's standard module names are
    offered, portal and user names are not.
    """
    from click.shell_completion import get_completion_class

    shell_class = get_completion_class(shell)
    assert shell_class is not None  # every choice is one of click's shells
    script = shell_class(ctx.find_root().command, {}, "deskctl", COMPLETE_VAR).source()
    click.echo(script)

