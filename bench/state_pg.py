"""The same local-backend sync (bench/scenario.py's `sync`) with its state in a SQLite file
and in PostgreSQL, to hold PostgreSQL within 1.5x of SQLite (issue 14) on the first sync
plus the run right after it. The server is BENCH_STATE_URL, or a throwaway one started
like the test suite's (tests/pgserver.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.5


def run_all(contacts: int, scenario: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """``scenario``: bench/__main__.py's runner of one bench.scenario process."""

    def both(url: str) -> dict[str, Any]:
        runs = {"sqlite": scenario("sync", "local", str(contacts), env={"BENCH_STATE_URL": ""}),
                "postgresql": scenario("sync", "local", str(contacts),
                                       env={"BENCH_STATE_URL": url})}
        total = {k: r["initial"]["seconds"] + r["after"]["seconds"] for k, r in runs.items()}
        return {**runs, "contacts": contacts,
                "ratio": round(total["postgresql"] / total["sqlite"], 2)}

    if os.environ.get("BENCH_STATE_URL"):
        return both(os.environ["BENCH_STATE_URL"])
    sys.path.insert(0, str(ROOT))
    from tests.pgserver import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        return {"skipped": "no PostgreSQL binaries (initdb, pg_ctl, postgres)"}
    server = PgServer(bindir)
    server.start()
    try:
        return both(server.new_database())
    finally:
        server.stop()


def verdicts(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    if "ratio" not in results:
        return []
    pg, lite = results["postgresql"], results["sqlite"]
    return [(f"local {results['contacts']}: sync on PostgreSQL state <= {TARGET}x SQLite "
             "(first sync + run right after)",
             f"{results['ratio']}x ({pg['initial']['seconds']} + {pg['after']['seconds']} s vs "
             f"{lite['initial']['seconds']} + {lite['after']['seconds']} s)",
             results["ratio"] <= TARGET)]
