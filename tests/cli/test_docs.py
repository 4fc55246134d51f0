"""Docs that cannot drift: the CLI reference matches the command tree."""

from __future__ import annotations

from pathlib import Path

from deskctl.clidoc import render_reference

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_is_current() -> None:
    current = (ROOT / "docs" / "cli.md").read_text()
    assert current == render_reference(), "docs/cli.md is stale: run 'make docs'"


def test_every_command_has_help() -> None:
    import click

    from deskctl.cli import cli

    def walk(command: click.Command, path: str) -> None:
        assert command.help or command.short_help, f"{path} has no help"
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), f"{path} {name}")  # type: ignore[arg-type]

    walk(cli, "deskctl")


def test_readme_names_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
