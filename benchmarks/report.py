"""The printed report (the JSON file holds the same figures and more)."""

from __future__ import annotations

import contextlib
import os
import platform
import sqlite3
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.servers import UVICORN_ARGS


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "uvicorn": version("uvicorn"),
        "starlette": version("starlette"),
        "sqlalchemy": version("sqlalchemy"),
        "uvloop": version("uvloop"),
        "httptools": version("httptools"),
        # What floor C sets and textdesk's engine sets on every connection.
        "sqlite": f"{sqlite3.sqlite_version}, WAL, synchronous=FULL",
    }


def _fmt(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:g}{unit}"


def _table(targets: dict[str, dict[str, Any]]) -> None:
    header = (
        f"{'target':<22} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'server CPU':>11} "
        f"{'client CPU':>11} {'other load':>11} {'non-200':>8}  runs req/s"
    )
    print(header)
    print(f"{'':<22} {'':>7} {'':>8} {'':>8} {'ms/req':>11} {'ms/req':>11} {'cores':>11}")
    print("-" * len(header))
    for fig in targets.values():
        runs = ", ".join(f"{r:.0f}" for r in fig["runs_requests_per_s"])
        print(
            f"{fig['name']:<22} {fig['requests_per_s']:>7.0f} {fig['p50_ms']:>8.1f} "
            f"{fig['p99_ms']:>8.1f} {fig['server_cpu_ms_per_request']:>11.3f} "
            f"{fig['client_cpu_ms_per_request']:>11.3f} {fig['other_load_cores']:>11.2f} "
            f"{sum(fig['non_200'].values()):>8}  {runs}"
        )


def _sent_afterwards(sent: dict[str, Any]) -> None:
    print()
    print("textdesk: each 200 meant stored and answered (replies committed to the outbox)")
    if sent["note"]:
        print(f"  {sent['note']}")
    texters = ", ".join(f"{k} {v}" for k, v in sorted(sent["texters"].items()))
    print(
        f"  the shown run wrote {sent['outbox_rows']} replies to the outbox; sent afterwards by "
        f"`textdesk worker` at {_fmt(sent['worker_replies_per_s'])} replies/s: "
        f"{sent['received']} received, {sent['expected']} expected; texters: {texters}"
    )


def _end_to_end(e2e: dict[str, Any], p: dict[str, Any]) -> None:
    print()
    print("textdesk, sending too: end to end (webhook sent → reply accepted by the stand-in)")
    print(f"  converser: {p['converser']} ({p['converser_app']})")
    print(
        f"  TEXTDESK_SEND_RATE={p['send_rate']:g}/s per number: Twilio's 1 text/s long-code "
        "pacing is lifted, to measure textdesk's pipeline rather than the carrier"
    )
    if e2e["note"]:
        print(f"  {e2e['note']}")
        return
    texters = ", ".join(f"{k} {v}" for k, v in sorted(e2e["texters"].items()))
    print(
        f"  replies: {e2e['received']} received, {e2e['expected']} expected "
        f"({e2e['calibrated_replies_per_text']:g} per text, learnt in {e2e['calibration_s']:g} s "
        f"from one texter per conversation); texters: {texters}"
    )
    print(
        f"  first reply p50 / p99: {_fmt(e2e['first_reply_p50_ms'], ' ms')} / "
        f"{_fmt(e2e['first_reply_p99_ms'], ' ms')}   whole answer p50 / p99: "
        f"{_fmt(e2e['last_reply_p50_ms'], ' ms')} / {_fmt(e2e['last_reply_p99_ms'], ' ms')}"
        f"   (over {e2e['matched_texts']} texts)"
    )
    print(
        f"  backlog drained {_fmt(e2e['drain_s'], ' s')} after the last webhook was answered; "
        f"{_fmt(e2e['replies_per_s'])} replies/s from first webhook to last reply"
    )
    cb = e2e["callbacks"]
    answered = ", ".join(f"{k} × {v}" for k, v in sorted(cb["answered"].items())) or "none"
    print(
        f"  status callbacks (sent, delivered per reply, as Twilio posts them): "
        f"{cb['posted']} posted, answered {answered}"
    )
    print(
        f"  CPU per text, first webhook → drained: textdesk "
        f"{e2e['pipeline_cpu_ms_per_text']:.2f} ms, "
        f"stand-in {e2e['standin_cpu_ms_per_text']:.2f} ms"
    )


def print_report(results: dict[str, Any]) -> None:
    m, p = results["machine"], results["parameters"]
    print()
    print(f"textdesk webhook benchmark — {results['date']}")
    print(
        f"machine: {m['nproc']} CPUs ({m['cpu'] or 'unknown'}), {m['system']}, "
        f"Python {m['python']}; load average at start "
        + " ".join(f"{v:.2f}" for v in results["load_average_at_start"])
    )
    print(
        f"servers: one process each, measured one at a time, in turns: uvicorn {m['uvicorn']} "
        + " ".join(UVICORN_ARGS[2:])
        + f", one worker; SQLite {m['sqlite']}"
    )
    cap = f", stopping new texts after {p['duration_s']:g} s" if p["duration_s"] else ""
    print(
        f"load: {p['texters']} texters × up to {p['messages']} texts each{cap}, "
        f"after {p['warmup']} warm-up requests; client {p['client']} (keep-alive, pre-signed), "
        f"in the orchestrating process; best of {p['repeat']} rounds per target"
    )
    targets: dict[str, dict[str, Any]] = results["targets"]
    if targets:
        print()
        _table(targets)
    if results.get("sent_afterwards") is not None:
        _sent_afterwards(results["sent_afterwards"])
    if results.get("end_to_end") is not None:
        _end_to_end(results["end_to_end"], p)
    ratios = results.get("ratios", {})
    if ratios:
        print()
        print("ratios (req/s): " + ", ".join(f"{k} = {v:.2f}" for k, v in ratios.items()))
    problems = results.get("problems", [])
    for line in problems[:20]:
        print(f"log: {line}")
    if len(problems) > 20:
        print(f"log: … {len(problems) - 20} more lines in the JSON")
