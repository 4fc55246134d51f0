"""Options and argument helpers shared by command groups."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def yes_option(help_text: str = "Make the change; without it, only show what would change.",
               ) -> Callable[[F], F]:
    return click.option("--yes", "-y", is_flag=True, help=help_text)


def portal_option(func: F) -> F:
    from deskctl.commands.completion import portals

    return click.option("--portal", metavar="NAME_OR_ID", shell_complete=portals,
                        help="Sandbox portal (default: the linked one, else the first).")(func)


def lock_timeout_option(help_text: str) -> Callable[[F], F]:
    """--lock-timeout after the subcommand: the same setting as the global --lock-timeout
    (config ``lock_timeout``), read through ``app.config.lock_timeout`` like it."""

    def remember(ctx: click.Context, _param: click.Parameter, value: float | None) -> None:
        from deskctl.app import App

        app = ctx.find_object(App)
        if value is not None and app is not None:
            # parsed before the command runs, so before the config is first read
            assert "config" not in app.__dict__, "--lock-timeout after the config was read"
            app.flags["lock_timeout"] = value

    return click.option("--lock-timeout", type=click.FloatRange(min=0), metavar="SECONDS",
                        expose_value=False, callback=remember,
                        help=f"{help_text} (default: config lock_timeout, 0).")


def limit_option(func: F) -> F:
    return click.option("--limit", type=click.IntRange(min=1), metavar="N",
                        help="Show at most N entries.")(func)


def read_text(value: str) -> str:
    """A text argument; ``-`` reads it from stdin (for scripts and long texts)."""
    return sys.stdin.read() if value == "-" else value


def read_secret(prompt: str, from_stdin: bool) -> str:
    """A secret from stdin (when asked, or when stdin is not a terminal) or a hidden prompt.
    Never from argv, so it stays out of shell history and process listings."""
    if from_stdin or not sys.stdin.isatty():
        value = sys.stdin.readline().strip()
    else:
        value = click.prompt(prompt, hide_input=True, err=True).strip()
    if not value:
        raise click.UsageError(f"no {prompt.lower()} given on stdin")
    return value


def read_zsc_key(from_stdin: bool, required: bool = True) -> str | None:
    """The ZSC key: --zsc-key-stdin, else DESKCTL_ZSC_KEY, else a prompt that does not echo."""
    import os

    from deskctl.credentials import BY_NAME

    if from_stdin:
        return read_secret("ZSC key", True)
    env = BY_NAME["zsc_key"].env
    if os.environ.get(env):
        return os.environ[env].strip()
    if sys.stdin.isatty():
        return read_secret("ZSC key", False)
    if required:
        raise click.UsageError("no ZSC key: pass --zsc-key-stdin, set DESKCTL_ZSC_KEY, or run "
                               "in a terminal to be prompted")
    return None


def changed_message(result: dict[str, Any], done: str, unchanged: str) -> None:
    """A confirmation on stderr that says whether anything changed."""
    from deskctl import output

    output.message(done if result.get("changed") else unchanged)


def report_change(fmt: str, result: dict[str, Any], done: str, unchanged: str = "") -> None:
    """A changing command's outcome: the resulting object on stdout with -o json|yaml, a
    confirmation on stderr (tables stay quiet on stdout)."""
    from deskctl import output

    if fmt != "table":
        output.render(result, fmt)
    output.message(done if result.get("changed", True) else unchanged)


def confirm(question: str, refusal: str) -> None:
    """Ask on a terminal; without one, refuse (exit 2) instead of guessing."""
    from deskctl.errors import UsageError

    if not sys.stdin.isatty():
        raise UsageError(f"{refusal}: pass --yes (there is no terminal to ask on)")
    click.confirm(question, abort=True, err=True)


class Assignment(click.ParamType):
    """A FIELD=VALUE argument, checked while click parses (a usage error, exit 2)."""

    name = "FIELD=VALUE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        name, sep, _value = str(value).partition("=")
        if not sep or not name.strip():
            self.fail(f"expected FIELD=VALUE, got {value!r}", param, ctx)
        return str(value)


ASSIGNMENT = Assignment()


def parse_assignments(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """FIELD=VALUE arguments (see ASSIGNMENT) as a dict."""
    data: dict[str, str] = {}
    for pair in pairs:
        name, _sep, value = pair.partition("=")
        data[name.strip()] = value
    return data
