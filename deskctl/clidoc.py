"""The CLI reference (docs/cli.md), generated from the click command tree.

`python -m deskctl.clidoc > docs/cli.md` regenerates it; a test fails when it is stale.
"""

from __future__ import annotations

import click


def _sections(command: click.Command, path: list[str],
              parent: click.Context | None = None) -> list[str]:
    settings = {"terminal_width": 88, "max_content_width": 88, **command.context_settings}
    ctx = click.Context(command, parent=parent, info_name=path[-1], **settings)
    parts = [f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`\n\n```\n"
             f"{command.get_help(ctx)}\n```\n"]
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None:
                parts += _sections(sub, [*path, name], ctx)
    return parts


def render_reference() -> str:
    from deskctl.cli import cli

    header = ("# deskctl command reference\n\nGenerated from the command tree by "
              "`make docs` (`python -m deskctl.clidoc`); do not edit by hand.\n\n")
    return header + "\n".join(_sections(cli, ["deskctl"]))


if __name__ == "__main__":
    click.echo(render_reference(), nl=False)
