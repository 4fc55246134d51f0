"""Counts the backend calls a run makes (reads and writes per side) for its report."""

from __future__ import annotations

from typing import Any

WRITES = {"create_records", "update_records", "delete_records", "create_record",
          "update_record", "delete_record"}


class Counted:
    """Wraps a CRM or Desk facet; every interface method call counts as one API call."""

    def __init__(self, api: Any) -> None:
        self._api = api
        self.calls = 0
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._api, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if name in WRITES:
                self.writes += 1
            return attr(*args, **kwargs)

        return counted
