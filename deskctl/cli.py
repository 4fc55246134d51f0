"""The root command: global options, the app object, command groups, and the ONE error
boundary that turns deskctl errors into "Error: ..." on stderr and SPEC §10's exit codes."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from deskctl import __version__
from deskctl.app import App
from deskctl.commands import COMMANDS
from deskctl.commands.completion import backends, profiles, users
from deskctl.errors import DeskctlError, ExitCode, UsageError

FORMATS = ["table", "wide", "json", "yaml"]

EPILOG = """\b
Exit codes: 0 success, 1 failure (bad value, not found, backend error), 2 usage error,
3 sync finished with record errors or open conflicts, 4 lock held,
5 authentication or credentials problem, 6 permission denied,
7 Zoho's daily API limit or the run's --max-calls budget reached.

\b
Examples:
  deskctl sandbox seed                 # fill the embedded CRM and Desk
  deskctl portal connect acme-support  # link a Desk portal
  deskctl users invite sam.sales@acme.example --role agent
  deskctl integration status -o json
"""


class DeskctlGroup(click.Group):
    """The root: loads a command group only when it is used, and is the error boundary."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        if name not in self.commands:
            import importlib

            module, attribute, _summary = COMMANDS[name]
            command = getattr(importlib.import_module(module), attribute)
            _add_leaf_options(command, name)
            self.add_command(command, name)
        return self.commands[name]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        with formatter.section("Commands"):  # shortened as click shortens loaded commands
            formatter.write_dl([(name, click.Command(name, help=summary)
                                 .get_short_help_str(limit))
                                for name, (_m, _a, summary) in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        app: App = ctx.ensure_object(App)
        try:
            return super().invoke(ctx)
        except DeskctlError as exc:
            _report(app, exc.message, exc.problems, exc.to_dict())
            ctx.exit(int(exc.exit_code))
        except click.UsageError as exc:
            if app.output == "json":
                _report(app, exc.format_message(), [], {"error": "usage",
                        "message": exc.format_message(), "exit_code": int(ExitCode.USAGE)})
                ctx.exit(int(ExitCode.USAGE))
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:  # the reader went away (`... | head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(int(ExitCode.FAILURE))
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except Exception as exc:
            if app.debug or os.environ.get("DESKCTL_DEBUG"):
                raise
            if isinstance(exc, OSError) and exc.filename:  # a read-only HOME, a full disk
                message = f"cannot use {exc.filename}: {exc.strerror or exc}"
            else:
                message = f"unexpected {type(exc).__name__}: {exc} (re-run with --debug for " \
                          "details)"
            _report(app, message, [], {"error": "internal", "message": message,
                                       "exit_code": int(ExitCode.FAILURE)})
            ctx.exit(int(ExitCode.FAILURE))
        finally:
            app.close()


def _report(app: App, message: str, problems: list[str], data: dict[str, Any]) -> None:
    from deskctl import output

    output.error(message, problems, data if app.output == "json" else None)


@click.group(cls=DeskctlGroup, epilog=EPILOG, context_settings={"help_option_names":
                                                                 ["-h", "--help"]})
@click.option("--config", "config_file", metavar="FILE", envvar="DESKCTL_CONFIG",
              help="Config file (default: ./deskctl.yaml, then the user config dir).")
@click.option("--profile", metavar="NAME", envvar="DESKCTL_PROFILE", shell_complete=profiles,
              help="Profile of the config file to use.")
@click.option("--backend", metavar="NAME", shell_complete=backends,
              help="Backend: local (default, the embedded sandbox), zoho, or a plugin's name.")
@click.option("-o", "--output", "output_flag", type=click.Choice(FORMATS),
              help="Output format (default: table, fitted to the terminal; wide: every "
                   "column).")
@click.option("-q", "--quiet", is_flag=True, help="Only data and errors; no messages.")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (repeatable).")
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.option("--as", "acting_user", metavar="EMAIL", shell_complete=users,
              help="Acting CRM user on the local backend (default: the sandbox owner).")
@click.option("--lock-timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Wait this long for the run lock when changing state (default: config, 0).")
@click.version_option(__version__, "--version", prog_name="deskctl")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, profile: str | None, backend: str | None,
        output_flag: str | None, quiet: bool, verbose: int, debug: bool,
        acting_user: str | None, lock_timeout: float | None) -> None:
    """Administer and sync the Zoho CRM / Zoho Desk integration.

    Link a Desk portal, invite CRM users to Desk, keep Accounts and Contacts in sync,
    choose which CRM modules show tickets, work on tickets and read support statistics.
    Runs on the embedded local sandbox by default; every command works offline there.
    """
    from deskctl import output

    for flag, value in (("--as", acting_user), ("--profile", profile)):
        if value is not None and not value.strip():
            raise UsageError(f"{flag} needs a value; an empty one does not mean the default")
    app = ctx.ensure_object(App)
    app.config_file, app.profile, app.output_flag = config_file, profile, output_flag
    app.flags = {"backend": backend, "user": acting_user, "lock_timeout": lock_timeout}
    app.quiet, app.verbose, app.debug = quiet, verbose, debug
    output.set_quiet(quiet)
    output.set_wide(output_flag == "wide")
    output.log_to_stderr(verbose + (2 if debug else 0))


def _set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        from deskctl import output

        ctx.find_object(App).output_flag = value  # type: ignore[union-attr]
        output.set_wide(value == "wide")


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        from deskctl import output

        ctx.find_object(App).quiet = True  # type: ignore[union-attr]
        output.set_quiet(True)


def _add_leaf_options(command: click.Command, path: str) -> None:
    """Let -o and -q also follow the subcommand (``deskctl portal list -o json``); give each
    leaf its examples as the help epilog."""
    from deskctl.commands.helptext import epilog

    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            _add_leaf_options(sub, f"{path} {name}")
        return
    if command.epilog is None:
        command.epilog = epilog(path)
    if command.callback is not None:
        command.callback = _checked_first(command.callback, path)
    command.params.append(click.Option(["-o", "--output"], type=click.Choice(FORMATS),
                                       expose_value=False, callback=_set_output,
                                       help="Output format (default: table, fitted to "
                                            "the terminal; wide: every column)."))
    command.params.append(click.Option(["-q", "--quiet"], is_flag=True, expose_value=False,
                                       callback=_set_quiet, help="Only data and errors."))




def _checked_first(callback: Callable[..., Any], path: str) -> Callable[..., Any]:
    """Run App.preflight (the checks every command makes) once click has parsed the command
    line and before the command does any work."""

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        ctx.find_object(App).preflight(path, ctx.params)  # type: ignore[union-attr]
        return callback(*args, **kwargs)

    return checked


def main() -> None:
    cli.main(prog_name="deskctl", obj=App())
    sys.exit(0)
