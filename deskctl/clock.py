"""The one source of "now": DESKCTL_NOW (ISO 8601) when set, else the system clock, in UTC.

``now`` has whole seconds (what deskctl shows and the times Zoho uses); ``fine_now`` keeps
the system clock's microseconds, for the local sandbox's stamps and the sync's catch-up
(deskctl/sync/catchup.py), whose steps may be finer than a second."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from deskctl.errors import ConfigError
from deskctl.models.records import instant

SECOND = timedelta(seconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_time(text: str) -> datetime:
    """ISO 8601 as an aware UTC datetime (models.records.instant: ``Z`` or an offset, none
    taken as UTC); a ConfigError naming the text otherwise."""
    try:
        return instant(text)
    except ValueError:
        raise ConfigError(f"not an ISO 8601 time: {text!r}") from None


def _fixed() -> datetime | None:
    fixed = os.environ.get("DESKCTL_NOW")
    if not fixed:
        return None
    try:
        return parse_time(fixed)
    except ConfigError:
        raise ConfigError(f"DESKCTL_NOW is not an ISO 8601 time: {fixed!r}") from None


def now() -> datetime:
    fixed = _fixed()
    return fixed if fixed is not None else datetime.now(timezone.utc).replace(microsecond=0)


def fine_now() -> datetime:
    """``now`` with the system clock's microseconds (DESKCTL_NOW as it is, when set)."""
    fixed = _fixed()
    return fixed if fixed is not None else datetime.now(timezone.utc)


def frozen() -> bool:
    """Whether DESKCTL_NOW fixes the clock (waiting for it to move would be in vain)."""
    return bool(os.environ.get("DESKCTL_NOW"))


def floor(value: datetime, step: timedelta) -> datetime:
    """``value`` down to a whole multiple of ``step`` since the epoch (1 s: its second)."""
    return value - (value - EPOCH) % step


def iso(value: datetime) -> str:
    """ISO 8601 UTC with a trailing Z: seconds, the shape Zoho uses, and microseconds only
    when there are any (a fine cursor or a local sandbox stamp), so nothing is dropped."""
    value = value.astimezone(timezone.utc)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_second(value: datetime) -> str:
    """``iso`` of ``value``'s second (any fraction dropped): Zoho's whole-second times."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return iso_second(now())


def fine_now_iso() -> str:
    return iso(fine_now())
