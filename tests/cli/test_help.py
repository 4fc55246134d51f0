"""Help: every leaf command has examples (its epilog) that parse against the command
tree, every option says what it does, and `ticket update --help` lists its fields."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import click
import pytest

from deskctl.app import App
from deskctl.cli import cli


def leaves(command: click.Command = cli, path: tuple[str, ...] = (),
           parent: click.Context | None = None) -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(command, parent=parent, info_name=path[-1] if path else "deskctl")
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from leaves(sub, (*path, name), ctx)
    else:
        yield " ".join(path), command


LEAVES = dict(leaves())


def examples(epilog: str) -> list[list[str]]:
    """The deskctl command lines of an epilog's examples, as argv lists (without the shell
    around them: pipes, redirections, comments)."""
    text = epilog.partition("Examples:")[2].replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        if "deskctl" not in tokens:
            continue
        start = tokens.index("deskctl") + 1
        end = next((i for i, t in enumerate(tokens[start:], start) if t in "|;&<>>>"),
                   len(tokens))
        found.append(tokens[start:end])
    return found


def parse(argv: list[str]) -> str:
    """Parse a command line as deskctl would (types, choices, required options) without
    running it; returns the path of the leaf command it reaches."""
    ctx = cli.make_context("deskctl", list(argv), obj=App())
    command: click.Command = cli
    path = []
    while isinstance(command, click.Group):
        name, sub, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        assert name is not None and sub is not None
        path.append(name)
        ctx = sub.make_context(name, rest, parent=ctx)
        command = sub
    return " ".join(path)


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_every_leaf_command_has_examples_that_parse(path: str) -> None:
    epilog = LEAVES[path].epilog or ""
    assert "Examples:" in epilog, f"'deskctl {path}' has no examples: add them to " \
                                  "deskctl/commands/helptext.py"
    assert "Examples:" not in (LEAVES[path].help or ""), "examples twice: docstring and epilog"
    lines = examples(epilog)
    assert lines, f"'deskctl {path}' has no example command line"
    for argv in lines:
        assert parse(argv) == path, f"an example of 'deskctl {path}' runs {argv}"


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_every_option_has_help(path: str) -> None:
    missing = [p.opts[0] for p in LEAVES[path].params
               if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()]
    assert missing == [], f"'deskctl {path}': options without help"


def test_root_options_have_help_and_backend_names_zoho(run) -> None:
    assert all(p.help for p in cli.params if isinstance(p, click.Option))
    result = run("--help")
    assert "local (default, the embedded sandbox), zoho, or a plugin" in \
        " ".join(result.stdout.split())


def test_ticket_update_help_lists_fields_and_values(run) -> None:
    result = run("ticket", "update", "--help")
    assert result.exit_code == 0 and result.stderr == ""
    text = result.stdout
    assert "status                 Open | On Hold | Escalated | Closed" in text
    assert "priority               Low | Medium | High | Urgent" in text
    assert "dueDate, due" in text and "assigneeId, owner" in text
    assert "ticketNumber" not in text  # read-only fields are not offered
    assert "Examples:" in text and "deskctl ticket update" in text


def test_help_needs_no_config_or_credentials(run, tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("backend: [unclosed\n")
    result = run("--config", str(broken), "--backend", "zoho", "ticket", "update", "--help")
    assert result.exit_code == 0 and "Fields" in result.stdout


def test_a_wrong_example_is_caught() -> None:
    with pytest.raises(click.UsageError):
        parse(["sync", "run", "--no-such-option"])
    assert examples("\b\nExamples:\n  deskctl a b \\\n    --c d | jq .  # x\n") == [
        ["a", "b", "--c", "d"]]
