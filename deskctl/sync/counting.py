"""Counts the API calls a run makes, per side, reads and writes, for its report and its
--max-calls budget. An HTTP backend's facet counts its own requests at its chokepoint (the
same meter); for any other backend, every interface method call counts as one call."""

from __future__ import annotations

from typing import Any

from deskctl.backends.meter import CallMeter

WRITES = {"create_records", "update_records", "delete_records", "create_record",
          "update_record", "delete_record"}
UNCOUNTED = {"write_session"}  # grouping of calls, not a call


class Counted:
    """Wraps a CRM or Desk facet (``side`` crm or desk) and counts into ``meter``."""

    def __init__(self, api: Any, side: str, meter: CallMeter) -> None:
        self._api = api
        self._side = side
        self._meter = meter
        self._counts_itself = getattr(api, "meter", None) is meter

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._api, name)
        if not callable(attr) or name.startswith("_") or name in UNCOUNTED or \
                self._counts_itself:
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._meter.spend(self._side, name in WRITES)
            return attr(*args, **kwargs)

        return counted
