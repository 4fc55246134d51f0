"""`deskctl config`: show the resolved configuration, write a starter file."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app


@click.group("config")
def config_group() -> None:
    """Show or create the configuration file.

    \b
    Examples:
      deskctl config show
      deskctl --profile acme config show -o json
      deskctl config init
    """


@config_group.command("show")
@pass_app
def show(app: App) -> None:
    """Show every setting, its value and where it came from."""
    from deskctl.config import mask

    config = app.config
    rows = [{"key": key, "value": mask(key, value), "source": config.sources[key]}
            for key, value in config.values.items()]
    if app.output == "table":
        output.message(f"profile: {config.profile}; file: {config.path or 'none'}")
        output.render(rows, "table")
    else:
        output.render({"profile": config.profile,
                       "file": str(config.path) if config.path else None,
                       "profiles": list(config.profiles), "settings": rows}, app.output)


@config_group.command("init")
@click.option("--path", type=click.Path(dir_okay=False), help="Where to write it "
              "(default: the user config dir).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_app
def init(app: App, path: str | None, force: bool) -> None:
    """Write a starter config file (refuses to overwrite without --force)."""
    from pathlib import Path

    from deskctl.commands.options import report_change
    from deskctl.config import init_config

    written = init_config(Path(path) if path else None, force)
    report_change(app.output, {"path": str(written)}, f"Wrote {written}")
