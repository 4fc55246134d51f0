"""`make bench`: runs every scenario, prints a table against the targets, writes JSON.

Sizes: BENCH_SIZES (local, default 1000,10000,100000) and BENCH_ZOHO_SIZES (zoho over
`sandbox serve --latency-ms 50`, default 1000,10000; 100000 takes about ten minutes)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LATENCY_MS = 50


def sizes(name: str, default: str) -> list[int]:
    return [int(s) for s in os.environ.get(name, default).split(",") if s.strip()]


def scenario(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.scenario", *args], cwd=ROOT,
                         env={**os.environ, **(env or {})}, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def zoho(contacts: int) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="deskctl-serve-"))
    env = {**os.environ, "DESKCTL_HOME": str(home),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    server = subprocess.Popen([sys.executable, "-m", "deskctl", "sandbox", "serve", "--port",
                               "0", "--latency-ms", str(LATENCY_MS)], env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        url = server.stderr.readline().split(" at ")[1].split(" ")[0]
        return scenario("zoho", str(contacts), url,
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


def verdicts(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    rows = []
    for run in results["local"]:
        n = run["contacts"]
        if n == 100000:
            rows.append((f"local {n}: initial sync < 60 s", f"{run['initial']['seconds']} s",
                         run["initial"]["seconds"] < 60))
            rss = run["initial"]["peak_rss_mb"]
            rows.append((f"local {n}: initial sync peak RSS < 300 MB", f"{rss} MB", rss < 300))
        rows.append((f"local {n}: no-change rerun <= 2 list calls per module and side",
                     f"{run['no_change']['reads']} reads, {run['no_change']['writes']} writes",
                     run["no_change"]["reads"] <= 8 and run["no_change"]["writes"] == 0))
    for run in results["zoho"]:
        n, initial = run["contacts"], run["initial"]
        calls = initial["http_requests"]
        rows.append((f"zoho {n}: API calls <= 1.1x minimum",
                     f"{calls} / {initial['minimum_calls']}",
                     calls <= 1.1 * initial["minimum_calls"]))
        rows.append((f"zoho {n}: wall time <= 1.5x ideal",
                     f"{initial['seconds']} s / {initial['ideal_seconds']} s",
                     initial["seconds"] <= 1.5 * initial["ideal_seconds"]))
    s = results["startup"]
    rows.append(("start-up <= 2x bare click import",
                 f"--version {s['version']} s, --help {s['help']} s, click {s['click_import']} s",
                 max(s["version"], s["help"]) <= 2 * s["click_import"]))
    return rows


def main() -> None:
    results: dict[str, Any] = {
        "local": [scenario("local", str(n)) for n in sizes("BENCH_SIZES",
                                                          "1000,10000,100000")],
        "zoho": [zoho(n) for n in sizes("BENCH_ZOHO_SIZES", "1000,10000")],
        "startup": startup(),
    }
    from tabulate import tabulate

    table = [[r["backend"], r["contacts"] + r["accounts"], r["initial"]["seconds"],
              r["initial"]["records_per_second"],
              r["initial"].get("http_requests", r["initial"]["reads"] + r["initial"]["writes"]),
              r["no_change"]["reads"], r["no_change"].get("http_requests", "-"),
              r["no_change"]["seconds"],
              r.get("one_percent", {}).get("writes", "-"),
              r.get("one_percent", {}).get("seconds", "-"), r["initial"]["peak_rss_mb"]]
             for r in results["local"] + results["zoho"]]
    print(tabulate(table, headers=["backend", "records", "initial s", "rec/s", "initial calls",
                                   "rerun list calls", "rerun HTTP", "rerun s",
                                   "1% write calls", "1% s", "initial peak RSS MB"]))
    print()
    checks = verdicts(results)
    print(tabulate([[name, value, "met" if ok else "MISSED"] for name, value, ok in checks],
                   headers=["target", "measured", ""]))
    results["targets"] = [{"target": n, "measured": v, "met": ok} for n, v, ok in checks]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(f"\nWrote {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
