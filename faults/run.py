"""``make faults``: every scenario in turn, then one table.

Scenarios run one after another, each on its own fresh database and stand-in,
so one's backlog never slows another's drain.  The table goes to stdout and,
with the run's date, commit, machine and duration, to ``var/faults/latest.md``
and ``latest.json``; the exit status is 1 when any "bad" column is not 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from faults import callbacks, crashes, fuzzing, outage, replays
from faults.context import Context, Scenario
from faults.ledger import Row
from faults.table import markdown, plain

SCENARIOS: dict[str, Scenario] = {
    "kill-web-sqlite": crashes.kill_web_sqlite,
    "kill-web-postgres": crashes.kill_web_postgres,
    "kill-one-of-two": crashes.kill_one_of_two,
    "kill-worker": crashes.kill_worker,
    "outage-sqlite": outage.outage_sqlite,
    "outage-postgres": outage.outage_postgres,
    "replays-sqlite": replays.replays_sqlite,
    "replays-postgres": replays.replays_postgres,
    "callbacks": callbacks.callbacks_out_of_order_and_lost,
    "fuzz-sqlite": fuzzing.fuzz_sqlite,
    "fuzz-postgres": fuzzing.fuzz_postgres,
}
ROOT = Path(__file__).resolve().parents[1]


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def _header(started: datetime, seconds: float, load: tuple[float, float, float]) -> str:
    return (
        f"Run {started:%Y-%m-%d %H:%M} UTC at commit {_commit()}, {_machine()}; "
        f"took {seconds / 60:.1f} min (load average at the end {load[0]:.1f}, "
        f"{load[1]:.1f}, {load[2]:.1f}: the machine is shared)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="repeatable")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "FAULTS_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="a server where the suite may create and drop databases (this URL's database "
        "is only used to connect)",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("FAULTS_REDIS_URL", "redis://127.0.0.1:6379/8"),
        help="a Redis database the suite flushes before each scenario that uses it",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "faults")
    parser.add_argument(
        "--keep", action="store_true", help="keep logs and databases (PostgreSQL ones too)"
    )
    args = parser.parse_args(argv)

    work = args.out / "work"
    shutil.rmtree(work, ignore_errors=True)
    context = Context(work, args.postgres, args.redis, keep=args.keep)
    chosen = args.only or list(SCENARIOS)
    started, began = datetime.now(UTC), time.monotonic()
    rows: list[Row] = []
    broken: list[str] = []
    for key in chosen:
        print(f"== {key}", file=sys.stderr, flush=True)
        scenario_began = time.monotonic()
        try:
            row = asyncio.run(SCENARIOS[key](context))
        except Exception:
            broken.append(f"{key}: {traceback.format_exc()}")
            print(broken[-1], file=sys.stderr, flush=True)
            continue
        row.notes.append(f"{time.monotonic() - scenario_began:.0f} s")
        rows.append(row)
        print(plain([row]), file=sys.stderr, flush=True)
    seconds = time.monotonic() - began
    header = _header(started, seconds, os.getloadavg())
    print()
    print(plain(rows))
    print(markdown(rows).split("\n\n", 1)[1])
    print(header)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(header + "\n\n" + markdown(rows))
    (args.out / "latest.json").write_text(
        json.dumps(
            {
                "started": started.isoformat(),
                "seconds": round(seconds, 1),
                "commit": _commit(),
                "machine": _machine(),
                "rows": [asdict(row) for row in rows],
                "broken": broken,
            },
            indent=2,
        )
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if broken:
        print(f"{len(broken)} scenario(s) did not run to the end: see above", file=sys.stderr)
        return 2
    return 1 if any(row.bad for row in rows) else 0
