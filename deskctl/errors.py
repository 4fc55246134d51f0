"""The error hierarchy and exit codes (SPEC §10).

Every error deskctl raises on purpose is a DeskctlError; the CLI's one error boundary turns
it into "Error: ..." on stderr and the class's exit code. Nothing here prints.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    SYNC_INCOMPLETE = 3
    LOCKED = 4
    AUTH = 5
    PERMISSION = 6
    API_LIMIT = 7


class DeskctlError(Exception):
    """Base of every expected failure. ``problems`` lists details shown as bullets."""

    exit_code: ExitCode = ExitCode.FAILURE
    kind = "error"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"error": self.kind, "message": self.message,
                                   "exit_code": int(self.exit_code)}
        if self.problems:
            data["problems"] = self.problems
        return data


class UsageError(DeskctlError):
    """A bad command line (wrong flag value, missing argument)."""

    exit_code = ExitCode.USAGE
    kind = "usage"


class ConfigError(DeskctlError):
    kind = "config"


class NotFound(DeskctlError):
    kind = "not-found"


class ValidationError(DeskctlError):
    """Input the backend (or a rule) refuses: required field, bad email, unknown field."""

    kind = "validation"

    def __init__(self, message: str, problems: list[str] | None = None,
                 field: str | None = None) -> None:
        super().__init__(message, problems)
        self.field = field


class RuleViolation(DeskctlError):
    """An integration rule refuses the action (one portal, pause-only sync, ...)."""

    kind = "refused"


class NotActive(RuleViolation):
    def __init__(self, message: str = "integration is not active "
                 "(link a portal with 'deskctl portal connect' first)") -> None:
        super().__init__(message)


class BackendError(DeskctlError):
    kind = "backend"


class Unsupported(BackendError):
    """The backend cannot do this (for example no public API); never pretend."""

    kind = "unsupported"


class SyncIncomplete(DeskctlError):
    """The run finished, but records were rejected or conflicts wait for a human."""

    exit_code = ExitCode.SYNC_INCOMPLETE
    kind = "sync-incomplete"


class AuthError(DeskctlError):
    exit_code = ExitCode.AUTH
    kind = "auth"


class PermissionDenied(DeskctlError):
    exit_code = ExitCode.PERMISSION
    kind = "permission"


class LockHeld(DeskctlError):
    exit_code = ExitCode.LOCKED
    kind = "locked"


class ApiLimitReached(DeskctlError):
    """Zoho's daily API credits are spent (or the run's --max-calls budget is): the run
    stops at once and keeps its progress; the next run resumes. ``resets`` says when Zoho
    gives credits back, when it says so."""

    exit_code = ExitCode.API_LIMIT
    kind = "api-limit"

    def __init__(self, message: str, resets: str | None = None) -> None:
        super().__init__(message + (f"; the limit resets {resets}" if resets else ""))
        self.resets = resets
