"""The mass-delete guard: `--max-delete N|P%`, parsed before a run reads anything and
checked per module before the run writes anything."""

from __future__ import annotations

from deskctl.errors import DeskctlError, UsageError


class AbortedRun(DeskctlError):
    kind = "aborted"


def parse_max_delete(text: str) -> tuple[float, bool]:
    """'25' -> (25, False); '10%' -> (10, True); anything else is a usage error."""
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = float(raw[:-1] if percent else raw)
    except ValueError:
        raise UsageError(f"--max-delete must be a count or a percentage (25 or 10%), got "
                         f"{text!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise UsageError(f"--max-delete must be a count or a percentage of 0 or more, got "
                         f"{text!r}")
    return value, percent


def check_deletes(max_delete: str, deletes: dict[str, int], pairs: dict[str, int]) -> None:
    """Abort when any module would delete more than allowed of its own synced pairs (a
    small module's deletions are not hidden under a large one's pair count)."""
    limit, percent = parse_max_delete(max_delete)
    for module, count in deletes.items():
        base = pairs.get(module, 0)
        allowed = base * limit / 100 if percent else limit
        if count > allowed:
            raise AbortedRun(
                f"this run would delete {count} of {base} synced {module}, more than "
                f"--max-delete {max_delete}; nothing was changed. Check the deletions with "
                "--dry-run, then re-run with --force or a higher --max-delete")
