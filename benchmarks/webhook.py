"""``make bench``: textdesk's inbound webhook against two floors, plus end-to-end latency.

Every server runs as its own process, one uvicorn worker each, with the same
uvicorn settings, on a free 127.0.0.1 port; they are measured one after another
so none competes with another for the CPU:

* floor A: parse + signature check + empty TwiML (``benchmarks.floors:floor_a``);
* floor C: floor A + one durable SQLite insert per request (``...:floor_c``);
* textdesk (inbox only): textdesk with its background loops and inline processing
  off, so a webhook is checked, committed to the inbox (group commit) and
  answered, and nothing else runs: the same work as floor C, done textdesk's way;
* textdesk: the web process as deployed beside a ``textdesk worker``
  (``TEXTDESK_RUN_BACKGROUND=0``): each webhook is answered once its text is in
  the inbox *and* has been through the demo topics with its replies committed to
  the outbox.  After the timed runs a ``textdesk worker`` process sends that
  outbox to the stand-in, and the replies are checked against what each text
  should draw, so the figure counts only work that was really done;
* textdesk, sending too: as shipped in one process (``textdesk.web.app:app_from_settings``),
  replies sent to the Twilio stand-in (``benchmarks.standin``) while the load
  runs, and status callbacks posted back: the end-to-end latency.

The load generator (``benchmarks.load``) runs in this process, apart from the
servers.  Each target is measured ``--repeat`` times; the run with the highest
requests/s is reported (noise on a shared machine only ever slows a run down),
and every run is in the JSON.  See ``benchmarks/README.md`` for how to read it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import uvloop

from benchmarks.load import NUMBER, LoadResult, Target, percentile, run_load
from benchmarks.replies import (
    NO_REPLY_GRACE,
    QUIET_DONE,
    Calibration,
    EndToEnd,
    calibrate,
    drain,
    match_replies,
    ms,
    settle,
)
from benchmarks.report import machine, print_report
from benchmarks.servers import (
    CLK_TCK,
    Server,
    clean_env,
    die_with_parent,
    profiling,
    running,
    textdesk_cli,
)

ACCOUNT_SID = "AC" + "be" * 16
AUTH_TOKEN = "bench-auth-token-" + "0123456789abcdef"
SEND_RATE = "100000"
WARMUP_PREFIX = "+1555030"  # warm-up texters, kept apart so their replies are not matched
WARMUP_TEXTERS = 100
DEFAULT_JSON = Path("var/bench/latest.json")
TEXTDESK_APPS = {
    "default": "textdesk.web.app:app_from_settings",
    "echo": "benchmarks.apps:app_with_echo",
    "silent": "benchmarks.apps:app_with_silence",
}
FLOORS = (("floor A", "benchmarks.floors:floor_a"), ("floor C", "benchmarks.floors:floor_c"))
INBOX_ONLY = "textdesk (inbox only)"
PROCESSING = "textdesk"
ONE_PROCESS = "textdesk, sending too"


def measured_prefix(run: int) -> str:
    """Run ``run``'s texters: fresh numbers, so each run starts new conversations."""
    return f"+155502{run}"


# --------------------------------------------------------------------- measuring


def _host_busy_seconds() -> float:
    """CPU time every core of the machine has spent busy so far (from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    # user nice system idle iowait irq softirq steal: all but idle and iowait.
    busy = [int(v) for i, v in enumerate(fields[:8]) if i not in (3, 4)]
    return sum(busy) / CLK_TCK


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Figures:
    """One run's webhook figures for one target."""

    name: str
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non_200: dict[str, int]
    server_cpu_ms_per_request: float
    client_cpu_ms_per_request: float
    other_load_cores: float  # CPU used meanwhile by processes that are not the benchmark's
    runs_requests_per_s: list[float] = field(default_factory=list)


async def measure(
    name: str, target: Target, servers: Sequence[Server], args: argparse.Namespace, prefix: str
) -> tuple[Figures, LoadResult]:
    """One timed load against ``target``, with the CPU each side used meanwhile."""
    cpu = sum(s.cpu_seconds() for s in servers)
    host, own = _host_busy_seconds(), _own_cpu_seconds()
    load = await run_load(
        target,
        texters=args.texters,
        messages=args.messages,
        phone_prefix=prefix,
        client=args.client,
        duration=args.duration,
    )
    server_cpu = sum(s.cpu_seconds() for s in servers) - cpu
    own = _own_cpu_seconds() - own
    other = max(0.0, _host_busy_seconds() - host - server_cpu - own)
    per = max(load.requests, 1)
    figures = Figures(
        name=name,
        requests=load.requests,
        requests_per_s=round(load.rate, 1),
        p50_ms=round(percentile(load.latencies, 0.50) * 1000, 2),
        p99_ms=round(percentile(load.latencies, 0.99) * 1000, 2),
        max_ms=round(max(load.latencies, default=0.0) * 1000, 2),
        non_200={k: v for k, v in load.statuses.items() if k != "200"},
        server_cpu_ms_per_request=round(server_cpu / per * 1000, 3),
        client_cpu_ms_per_request=round(load.client_cpu / per * 1000, 3),
        other_load_cores=round(other / max(load.elapsed, 1e-9), 2),
    )
    return figures, load


async def _warm_up(target: Target, args: argparse.Namespace) -> None:
    if args.warmup <= 0:
        return
    texters = min(WARMUP_TEXTERS, args.warmup)
    await run_load(
        target,
        texters=texters,
        messages=max(1, args.warmup // texters),
        phone_prefix=WARMUP_PREFIX,
        client=args.client,
    )


def best(runs: Sequence[Figures]) -> Figures:
    """The fastest run, carrying every run's requests/s."""
    top = max(runs, key=lambda f: f.requests_per_s)
    top.runs_requests_per_s = [f.requests_per_s for f in runs]
    return top


# --------------------------------------------------------------------- targets


async def bench_floor(
    name: str, app: str, workdir: Path, args: argparse.Namespace
) -> tuple[Figures, list[str]]:
    slug = name.replace(" ", "_")
    server = Server(name, app, {}, workdir / f"{slug}.log")
    server.env = clean_env(
        BENCH_PUBLIC_URL=server.url,
        BENCH_AUTH_TOKEN=AUTH_TOKEN,
        BENCH_FLOOR_DB=str(workdir / f"{slug}.db"),
    )
    with running(server):
        target = Target(name, server.url, AUTH_TOKEN, ACCOUNT_SID)
        await _warm_up(target, args)
        runs = [
            (await measure(name, target, [server], args, measured_prefix(r)))[0]
            for r in range(args.repeat)
        ]
    return best(runs), server.log_problems()


def _textdesk_env(
    workdir: Path, desk_port: int, api_url: str, *, background: bool, inline: bool = True
) -> dict[str, str]:
    env = clean_env(
        TEXTDESK_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        TEXTDESK_PUBLIC_URL=f"http://127.0.0.1:{desk_port}",
        TEXTDESK_SECRET_KEY=secrets.token_urlsafe(48),
        TEXTDESK_SEND_RATE=SEND_RATE,
        TEXTDESK_LOG_LEVEL="WARNING",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_URL=api_url,
    )
    if not background:
        env["TEXTDESK_RUN_BACKGROUND"] = "0"
    if not inline:
        env["TEXTDESK_INLINE_PROCESSING"] = "0"
    return env


def _fresh_database(workdir: Path, env: dict[str, str]) -> None:
    for stale in workdir.glob("bench.db*"):
        stale.unlink()
    textdesk_cli(env, "migrate")
    textdesk_cli(env, "numbers", "add", NUMBER, "--purpose", "conversational")


async def bench_inbox_only(workdir: Path, args: argparse.Namespace) -> tuple[Figures, list[str]]:
    """textdesk's webhook path alone: signature, number check, group-committed inbox row."""
    desk = Server(INBOX_ONLY, TEXTDESK_APPS["default"], {}, workdir / "inbox_only.log")
    desk.health = "/readyz"
    desk.env = _textdesk_env(
        workdir, desk.port, "http://127.0.0.1:9", background=False, inline=False
    )
    _fresh_database(workdir, desk.env)
    with running(desk):
        target = Target(INBOX_ONLY, desk.url, AUTH_TOKEN, ACCOUNT_SID)
        await _warm_up(target, args)
        runs = [
            (await measure(INBOX_ONLY, target, [desk], args, measured_prefix(r)))[0]
            for r in range(args.repeat)
        ]
    return best(runs), desk.log_problems()


async def _end_to_end(
    standin: Server, desk: Server, load: LoadResult, calibration: Calibration, prefix: str
) -> tuple[EndToEnd, float]:
    """Wait for the replies to ``load``, then pair them with its texts.

    Returns the figures and the seconds from the first webhook until drained.
    """
    assert desk.proc is not None
    ok_texts = sum(sum(t.ok) for t in load.texters)
    expected = calibration.expected_for(load)
    received = await drain(standin.url, prefix, expected, load.finished_at)
    if received:
        await settle(standin.url, quiet_for=QUIET_DONE)  # the last callbacks
    async with httpx.AsyncClient(timeout=10.0) as client:
        answer = await client.get(standin.url + "/bench/received", params={"prefix": prefix})
    report = answer.json()
    by_to: dict[str, list[float]] = report["by_to"]
    matched = match_replies(load, by_to, calibration)
    times = sorted(t for ts in by_to.values() for t in ts)
    if times:
        note = ""
    elif calibration.silent:
        note = "no replies expected: no virtual agent configured (the first texts drew none)"
    else:
        note = f"no replies within {NO_REPLY_GRACE:g} s of the last webhook"
    e2e = EndToEnd(
        expected=expected,
        received=len(times),
        calibrated_replies_per_text=round(expected / max(ok_texts, 1), 3),
        calibration_s=calibration.seconds,
        texters=dict(matched.texters),
        matched_texts=matched.texts,
        first_reply_p50_ms=ms(matched.first, 0.50),
        first_reply_p99_ms=ms(matched.first, 0.99),
        last_reply_p50_ms=ms(matched.last, 0.50),
        last_reply_p99_ms=ms(matched.last, 0.99),
        drain_s=round(max(0.0, times[-1] - load.finished_at), 3) if times else None,
        replies_per_s=(
            round(len(times) / (times[-1] - load.started_at), 1)
            if times and times[-1] > load.started_at
            else None
        ),
        pipeline_cpu_ms_per_text=0.0,
        standin_cpu_ms_per_text=0.0,
        callbacks=report["callbacks"],
        note=note,
    )
    return e2e, time.time() - load.started_at


async def bench_one_process(
    workdir: Path, args: argparse.Namespace
) -> tuple[Figures, EndToEnd, Calibration, list[str]]:
    """textdesk as shipped in one process: answering, sending and status callbacks."""
    standin = Server(
        "stand-in",
        "benchmarks.standin:create_app",
        clean_env(BENCH_TWILIO_ACCOUNT_SID=ACCOUNT_SID, BENCH_TWILIO_AUTH_TOKEN=AUTH_TOKEN),
        workdir / "standin.log",
    )
    desk = Server(ONE_PROCESS, TEXTDESK_APPS[args.converser], {}, workdir / "one_process.log")
    desk.health = "/readyz"
    desk.env = _textdesk_env(workdir, desk.port, standin.url, background=True)
    _fresh_database(workdir, desk.env)
    runs: list[tuple[Figures, EndToEnd]] = []
    with running(standin), running(desk):
        assert desk.proc is not None
        target = Target(ONE_PROCESS, desk.url, AUTH_TOKEN, ACCOUNT_SID)
        print("… textdesk: learning replies per text", file=sys.stderr, flush=True)
        calibration = await calibrate(target, standin.url, args.texters, args.messages)
        print("… textdesk: warm-up and load", file=sys.stderr, flush=True)
        await _warm_up(target, args)
        await settle(standin.url)  # warm-up replies and their callbacks out of the way
        for r in range(args.repeat):
            prefix = measured_prefix(r)
            cpu, standin_cpu = desk.cpu_seconds(), standin.cpu_seconds()
            # The stand-in is Twilio's side: its CPU is counted apart, not as textdesk's.
            figures, load = await measure(ONE_PROCESS, target, [desk], args, prefix)
            e2e, _ = await _end_to_end(standin, desk, load, calibration, prefix)
            per = max(load.requests, 1)
            e2e.pipeline_cpu_ms_per_text = round((desk.cpu_seconds() - cpu) / per * 1000, 3)
            e2e.standin_cpu_ms_per_text = round(
                (standin.cpu_seconds() - standin_cpu) / per * 1000, 3
            )
            runs.append((figures, e2e))
    figures = best([f for f, _ in runs])
    e2e = next(e for f, e in runs if f is figures)
    problems = [f"{ONE_PROCESS}: {p}" for p in desk.log_problems()]
    problems += [f"stand-in: {p}" for p in standin.log_problems()]
    return figures, e2e, calibration, problems


@dataclass
class Sent:
    """What the worker sent afterwards for the full-processing runs: the proof of work."""

    expected: int  # replies the calibration predicts for the shown run's texts
    received: int
    texters: dict[str, int]  # "matched", "mismatch", "failed webhook"
    worker_replies_per_s: float | None  # over every run's replies
    outbox_rows: int  # written during the shown run, before the worker started
    note: str = ""


def _outbox_rows(workdir: Path, prefix: str) -> int:
    """Outbox rows addressed to ``prefix``'s texters: written before any was sent."""
    with sqlite3.connect(workdir / "bench.db") as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM outbox WHERE to_phone LIKE ?", (prefix + "%",)
        ).fetchone()
    return int(count)


async def bench_processing(
    workdir: Path, args: argparse.Namespace, calibration: Calibration | None
) -> tuple[Figures, Sent, list[str]]:
    """The web process with inline processing: each 200 means stored *and* answered.

    Nothing is sent while the load runs (as when a separate ``textdesk worker``
    sends); afterwards a worker process sends the outbox to the stand-in and every
    texter's replies are matched against the calibration.
    """
    standin = Server(
        "stand-in",
        "benchmarks.standin:create_app",
        clean_env(BENCH_TWILIO_ACCOUNT_SID=ACCOUNT_SID, BENCH_TWILIO_AUTH_TOKEN=AUTH_TOKEN),
        workdir / "standin_processing.log",
    )
    desk = Server(PROCESSING, TEXTDESK_APPS[args.converser], {}, workdir / "processing.log")
    desk.health = "/readyz"
    desk.env = _textdesk_env(workdir, desk.port, standin.url, background=False)
    _fresh_database(workdir, desk.env)
    runs: list[tuple[Figures, LoadResult, str, int]] = []
    with running(standin), running(desk):
        assert desk.proc is not None
        target = Target(PROCESSING, desk.url, AUTH_TOKEN, ACCOUNT_SID)
        await _warm_up(target, args)
        for r in range(args.repeat):
            prefix = measured_prefix(r)
            with profiling(desk.proc.pid, args.profile if r == 0 else None):
                figures, load = await measure(PROCESSING, target, [desk], args, prefix)
            runs.append((figures, load, prefix, _outbox_rows(workdir, prefix)))
        figures = best([f for f, _, _, _ in runs])
        _, load, prefix, rows = next(run for run in runs if run[0] is figures)
        print("… textdesk: a worker sends what was answered", file=sys.stderr, flush=True)
        sent = await _send_afterwards(workdir, desk, standin, runs, calibration)
        expected = calibration.expected_for(load) if calibration else 0
        async with httpx.AsyncClient(timeout=10.0) as client:
            answer = await client.get(standin.url + "/bench/received", params={"prefix": prefix})
        by_to: dict[str, list[float]] = answer.json()["by_to"]
        matched = match_replies(load, by_to, calibration)
        result = Sent(
            expected=expected,
            received=sum(len(v) for v in by_to.values()),
            texters=dict(matched.texters),
            worker_replies_per_s=sent,
            outbox_rows=rows,
            note="" if calibration else "no calibration (run with the one-process target)",
        )
    problems = [f"{PROCESSING}: {p}" for p in desk.log_problems()]
    problems += [f"stand-in: {p}" for p in standin.log_problems()]
    return figures, result, problems


async def _send_afterwards(
    workdir: Path,
    desk: Server,
    standin: Server,
    runs: Sequence[tuple[Figures, LoadResult, str, int]],
    calibration: Calibration | None,
) -> float | None:
    """Run ``textdesk worker`` until every run's replies reached the stand-in."""
    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name("textdesk")), "worker"],
        env=desk.env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "worker.log").open("ab"),
        preexec_fn=die_with_parent,  # noqa: PLW1509
    )
    began = time.time()
    try:
        total = 0
        for _, load, prefix, rows in runs:
            expected = calibration.expected_for(load) if calibration else rows
            total += await drain(standin.url, prefix, expected, time.time())
        await settle(standin.url, quiet_for=QUIET_DONE)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    elapsed = time.time() - began - QUIET_DONE
    return round(total / elapsed, 1) if total and elapsed > 0 else None


# --------------------------------------------------------------------- command


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.webhook",
        description="Webhook throughput and latency: textdesk against floors A and C.",
    )
    parser.add_argument("--texters", type=int, default=200, help="concurrent texters (200)")
    parser.add_argument("--messages", type=int, default=10, help="texts per texter, at most (10)")
    parser.add_argument(
        "--duration",
        type=float,
        default=20.0,
        help="seconds after which texters start no new text (20; 0 = send every text)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs per target; best shown (2)")
    parser.add_argument("--warmup", type=int, default=200, help="uncounted requests first (200)")
    parser.add_argument("--only", choices=["textdesk", "floors"], help="run one side only")
    parser.add_argument(
        "--json",
        metavar="PATH",
        default=str(DEFAULT_JSON),
        help=f"where to write the results as JSON ({DEFAULT_JSON}; '' for nowhere)",
    )
    parser.add_argument(
        "--client", choices=["raw", "httpx"], default="raw", help="load generator's HTTP client"
    )
    parser.add_argument(
        "--converser",
        choices=sorted(TEXTDESK_APPS),
        default="default",
        help="textdesk as shipped (default), or with one reply per text (echo) or none (silent)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the work directory (databases, server logs) and print its path",
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="py-spy textdesk's first run (.svg, .json, else raw stacks); perturbs figures",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.texters <= 10_000 or not 1 <= args.messages <= 1000:
        parser.error("--texters must be 1..10000 and --messages 1..1000")
    if not 1 <= args.repeat <= 9:
        parser.error("--repeat must be 1..9")
    args.duration = args.duration or None
    return args


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m benchmarks.webhook " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "load_average_at_start": list(os.getloadavg()),
        "parameters": {
            "texters": args.texters,
            "messages": args.messages,
            "duration_s": args.duration,
            "repeat": args.repeat,
            "warmup": args.warmup,
            "client": args.client,
            "converser": args.converser,
            "converser_app": TEXTDESK_APPS[args.converser],
            "send_rate": float(SEND_RATE),
            "status_callbacks": True,
        },
        "targets": {},
        "problems": [],
    }
    targets: dict[str, Any] = results["targets"]
    if args.only in (None, "floors"):
        for name, app in FLOORS:
            print(f"… {name}", file=sys.stderr, flush=True)
            figures, problems = await bench_floor(name, app, workdir, args)
            targets[name] = asdict(figures)
            results["problems"] += [f"{name}: {p}" for p in problems]
    if args.only in (None, "textdesk"):
        print(f"… {INBOX_ONLY}", file=sys.stderr, flush=True)
        figures, problems = await bench_inbox_only(workdir, args)
        targets[INBOX_ONLY] = asdict(figures)
        results["problems"] += [f"{INBOX_ONLY}: {p}" for p in problems]
        print(f"… {ONE_PROCESS}", file=sys.stderr, flush=True)
        one, e2e, calibration, problems = await bench_one_process(workdir, args)
        results["end_to_end"] = asdict(e2e)
        results["problems"] += problems
        print(f"… {PROCESSING}", file=sys.stderr, flush=True)
        figures, sent, problems = await bench_processing(workdir, args, calibration)
        targets[PROCESSING] = asdict(figures)
        targets[ONE_PROCESS] = asdict(one)
        results["sent_afterwards"] = asdict(sent)
        results["problems"] += problems
    ratios: dict[str, float] = {}
    for name, short in (
        (PROCESSING, "textdesk"),
        (ONE_PROCESS, "sending too"),
        (INBOX_ONLY, "inbox only"),
    ):
        for floor, letter in (("floor A", "A"), ("floor C", "C")):
            if name in targets and floor in targets and targets[floor]["requests_per_s"]:
                ratios[f"{short}/{letter}"] = round(
                    targets[name]["requests_per_s"] / targets[floor]["requests_per_s"], 3
                )
    results["ratios"] = ratios
    return results


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so every `finally` stops its server.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="textdesk-bench-"))
    began = time.monotonic()
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            results = runner.run(run(args, workdir))
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["duration_s"] = round(time.monotonic() - began, 1)
    print_report(results)
    print(f"\n(run took {results['duration_s']} s)")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {path}")
    failures = sum(sum(t["non_200"].values()) for t in results["targets"].values())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
