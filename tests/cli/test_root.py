from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from deskctl import __version__


def test_version(run) -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"deskctl, version {__version__}"


def test_help_lists_groups_examples_and_exit_codes(run) -> None:
    result = run("--help")
    assert result.exit_code == 0
    for word in ("sandbox", "config", "auth", "audit", "Exit codes", "Examples"):
        assert word in result.stdout


def test_every_group_help_has_examples(run) -> None:
    from deskctl.commands import COMMANDS

    for name in COMMANDS:
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Examples:" in result.stdout, name


def test_bad_output_format_is_a_usage_error(run) -> None:
    result = run("-o", "xml", "sandbox", "info")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "'xml' is not one of" in result.stderr


def test_unknown_backend(run) -> None:
    result = run("--backend", "nope", "sandbox", "info")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: unknown backend 'nope' (available: local, zoho; "
                                     "from command line)")


def test_malformed_config_is_one_clear_error(run, tmp_path: Path) -> None:
    (tmp_path / "deskctl.yaml").write_text("output: [table\n")
    result = run("sandbox", "info")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: deskctl.yaml: line 2: malformed YAML")


def test_config_problems_are_listed_together(run, tmp_path: Path) -> None:
    (tmp_path / "deskctl.yaml").write_text("colour: red\noutput: xml\n")
    result = run("sandbox", "info")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: invalid configuration"
    assert len(lines) == 3 and "unknown key colour (line 1)" in lines[1]


def test_unknown_profile(run) -> None:
    result = run("--profile", "nope", "sandbox", "info")
    assert result.exit_code == 1
    assert "unknown profile 'nope'" in result.stderr


def test_json_errors_also_come_as_an_object_on_stderr(run) -> None:
    result = run("-o", "json", "sandbox", "crm", "list", "Nope")
    assert result.exit_code == 1
    assert result.stdout == ""
    error = json.loads(result.stderr.splitlines()[-1])
    assert error["exit_code"] == 1 and error["error"] == "not-found"


def test_output_option_also_after_the_subcommand(seeded) -> None:
    result = seeded("sandbox", "info", "-o", "json")
    assert result.exit_code == 0
    assert result.json()["owner"] == "admin@acme.example"


def test_python_dash_m_and_fast_version() -> None:
    result = subprocess.run([sys.executable, "-m", "deskctl", "--version"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and __version__ in result.stdout
    loaded = subprocess.run([sys.executable, "-c", "import sys; from deskctl.cli import cli; "
                             "print(' '.join(sorted(sys.modules)))"], capture_output=True,
                            text=True, check=True).stdout.split()
    for heavy in ("requests", "yaml", "tabulate", "keyring", "sqlite3", "tenacity",
                  "deskctl.commands.sync", "deskctl.services.tickets"):
        assert heavy not in loaded, f"{heavy} is imported at start-up"


def test_command_summaries_match_the_commands() -> None:
    import click

    from deskctl.cli import cli
    from deskctl.commands import COMMANDS

    ctx = click.Context(cli)
    for name, (_module, _attribute, summary) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        summary_help = click.Command(name, help=summary).get_short_help_str(200)
        assert summary_help == command.get_short_help_str(200), name
