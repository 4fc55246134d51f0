"""`make bench`: runs every scenario, prints tables against issue 11's targets, writes JSON.

Sizes: BENCH_SIZES (local first syncs, default 1000,10000,100000), BENCH_ZOHO_SIZES (zoho
over `sandbox serve --latency-ms 50`, default 1000,10000) and BENCH_SMALL (the one-way and
records-in-error scenarios on both backends, default 2000). It also compares the state store
on SQLite and on PostgreSQL on the local backend at BENCH_STATE_SIZE contacts (default
20000; bench/state_pg.py: a throwaway server, or BENCH_STATE_URL=postgresql://...)."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import state_pg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LATENCY_MS = 50
MODULES, SIDES = 2, 2


def sizes(name: str, default: str) -> list[int]:
    return [int(s) for s in os.environ.get(name, default).split(",") if s.strip()]


def scenario(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.scenario", *args], cwd=ROOT,
                         env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"bench.scenario {' '.join(args)} failed:\n{out.stderr}")
    return dict(json.loads(out.stdout))


def zoho(kind: str, contacts: int) -> dict[str, Any]:
    """The scenario against the zoho backend, through a `sandbox serve` with 50 ms latency."""
    home = Path(tempfile.mkdtemp(prefix="deskctl-serve-"))
    env = {**os.environ, "DESKCTL_HOME": str(home),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    server = subprocess.Popen([sys.executable, "-m", "deskctl", "sandbox", "serve", "--port",
                               "0", "--latency-ms", str(LATENCY_MS)], env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        url = server.stderr.readline().split(" at ")[1].split(" ")[0]
        return scenario(kind, "zoho", str(contacts), url,
                        env={"BENCH_SANDBOX": str(home / "default" / "sandbox.db")})
    finally:
        server.terminate()
        server.wait()


def startup() -> dict[str, float]:
    def median(cmd: list[str]) -> float:
        runs = []
        for _ in range(7):
            started = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            runs.append(time.perf_counter() - started)
        return round(statistics.median(runs), 3)

    deskctl = str(Path(sys.executable).parent / "deskctl")
    return {"click_import": median([sys.executable, "-c", "import click"]),
            "version": median([deskctl, "--version"]),
            "help": median([deskctl, "--help"])}


def feeds(run: dict[str, Any]) -> int:
    """Deleted-records feeds per run: CRM's per module, and Desk's where the backend has one."""
    desk = run["backend"] == "local" or run.get("desk_deletions", False)
    return MODULES * (2 if desk else 1)


def minimum_calls(run: dict[str, Any]) -> int:
    """A first sync's page/batch minimum: CRM pages of 200 and its deleted feeds, one empty
    Desk list (and feed) per module, one Desk create per record."""
    crm_pages = math.ceil(run["contacts"] / 200) + math.ceil(run["accounts"] / 200)
    return crm_pages + feeds(run) + MODULES + run["contacts"] + run["accounts"]


def quiet_reads(run: dict[str, Any]) -> int:
    """At most 2 data reads per module and side, plus the deleted-records feeds."""
    return 2 * MODULES * SIDES + feeds(run)


def verdicts(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    rows: list[tuple[str, str, bool]] = []
    for run in results["sync"]:
        name = f"{run['backend']} {run['contacts'] + run['accounts']:,}"
        initial, after, steady = run["initial"], run["after"], run["steady"]
        limit = quiet_reads(run)
        for label, data in (("run right after the first sync", after),
                            ("run with nothing new", steady)):
            rows.append((f"{name}: {label} <= {limit} reads, 0 writes",
                         f"{data['reads']} reads, {data['writes']} writes",
                         data["reads"] <= limit and data["writes"] == 0))
        if run["backend"] == "zoho":
            rows.append((f"{name}: run right after the first sync <= 3 s @50 ms",
                         f"{after['seconds']} s", after["seconds"] <= 3))
            calls = initial["reads"] + initial["writes"] + initial["setup"]
            minimum = minimum_calls(run)
            rows.append((f"{name}: first sync calls <= 1.1x minimum",
                         f"{calls} / {minimum} ({calls / minimum:.2f}x)",
                         calls <= 1.1 * minimum))
            ideal = minimum * LATENCY_MS / 1000 / run["concurrency"]
            rows.append((f"{name}: first sync wall time <= 1.2x ideal",
                         f"{initial['seconds']} s / {ideal:.1f} s "
                         f"({initial['seconds'] / ideal:.2f}x)",
                         initial["seconds"] <= 1.2 * ideal))
        else:
            rows.append((f"{name}: first sync >= 5,000 records/s",
                         f"{initial['records_per_second']:,.0f}/s",
                         initial["records_per_second"] >= 5000))
            share = after["seconds"] / initial["seconds"]
            rows.append((f"{name}: next run <= 5% of the first sync's time",
                         f"{after['seconds']} s = {share:.1%}", share <= 0.05))
            if run["contacts"] >= 100000:
                rss = initial["peak_rss_mb"]
                rows.append((f"{name}: first sync peak RSS < 300 MB", f"{rss} MB", rss < 300))
    for run in results["oneway"]:
        limit = math.ceil(run["desk_edits"] / 100)
        rows.append((f"{run['backend']}: one-way, {run['desk_edits']} Desk edits <= {limit} "
                     "CRM counterpart reads", str(run["counterpart_reads"]),
                     run["counterpart_reads"] <= limit))
    for run in results["errors"]:
        errors = run["in_error"]
        # a run with nothing new reads one empty page per module and side, and the feeds:
        # what it reads beyond that is the lookups its records in error cost
        lookups = run["steady"]["reads"] - MODULES * SIDES - feeds(run)
        limit = math.ceil(errors / 100)
        rows.append((f"{run['backend']}: {errors} records in error <= {limit} lookups",
                     f"{lookups} (run right after: {run['after']['reads']} reads)",
                     lookups <= limit))
    s = results["startup"]
    rows.append(("start-up <= 2x bare click import",
                 f"--version {s['version']} s, --help {s['help']} s, click {s['click_import']} s",
                 max(s["version"], s["help"]) <= 2 * s["click_import"]))
    return rows


def table(results: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for r in results["sync"]:
        initial, after, steady = r["initial"], r["after"], r["steady"]
        one = r.get("one_percent", {})
        rows.append([r["backend"], f"{r['contacts'] + r['accounts']:,}",
                     f"{initial['seconds']} s", f"{initial['records_per_second']:,.0f}",
                     f"{initial['reads']} r + {initial['writes']} w + {initial['setup']} s",
                     f"{after['reads']} r + {after['writes']} w, {after['seconds']} s",
                     f"{steady['reads']} r + {steady['writes']} w, {steady['seconds']} s",
                     f"{one['writes']} w, {one['seconds']} s" if one else "-",
                     f"{initial['peak_rss_mb']} MB"])
    return rows


def main() -> None:
    small = sizes("BENCH_SMALL", "2000")
    results: dict[str, Any] = {
        "sync": [scenario("sync", "local", str(n))
                 for n in sizes("BENCH_SIZES", "1000,10000,100000")]
        + [zoho("sync", n) for n in sizes("BENCH_ZOHO_SIZES", "1000,10000")],
        "oneway": [scenario("oneway", "local", str(n)) for n in small]
        + [zoho("oneway", n) for n in small],
        "errors": [scenario("errors", "local", str(n)) for n in small]
        + [zoho("errors", n) for n in small],
        "startup": startup(),
    }
    results["state"] = state_pg.run_all(int(os.environ.get("BENCH_STATE_SIZE", "20000")),
                                        scenario)
    from tabulate import tabulate

    print(tabulate(table(results), headers=[
        "backend", "records", "first sync", "rec/s", "first sync calls",
        "run right after", "run with nothing new", "1% changed", "peak RSS"]))
    print()
    checks = verdicts(results) + state_pg.verdicts(results["state"])
    print(tabulate([[name, value, "met" if ok else "MISSED"] for name, value, ok in checks],
                   headers=["target", "measured", ""]))
    if "sqlite" in results["state"]:
        print()
        print(tabulate([[kind, *row[2:]] for kind, run in results["state"].items()
                        if kind in ("sqlite", "postgresql") for row in table({"sync": [run]})],
                       headers=["state store", "first sync", "rec/s", "first sync calls",
                                "run right after", "run with nothing new", "1% changed",
                                "peak RSS"]))
    results["targets"] = [{"target": n, "measured": v, "met": ok} for n, v, ok in checks]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(f"\nWrote {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
