"""The one source of "now": DESKCTL_NOW (ISO 8601) when set, else the system clock, in UTC."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from deskctl.errors import ConfigError
from deskctl.models.records import instant


def parse_time(text: str) -> datetime:
    """ISO 8601 as an aware UTC datetime (models.records.instant: ``Z`` or an offset, none
    taken as UTC); a ConfigError naming the text otherwise."""
    try:
        return instant(text)
    except ValueError:
        raise ConfigError(f"not an ISO 8601 time: {text!r}") from None


def now() -> datetime:
    fixed = os.environ.get("DESKCTL_NOW")
    if fixed:
        try:
            return parse_time(fixed)
        except ConfigError:
            raise ConfigError(f"DESKCTL_NOW is not an ISO 8601 time: {fixed!r}") from None
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(value: datetime) -> str:
    """ISO 8601 UTC with seconds and a trailing Z, the shape Zoho uses."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return iso(now())
