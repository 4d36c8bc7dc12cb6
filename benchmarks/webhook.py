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
import contextlib
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

from benchmarks.children import die_with_parent, run_textdesk
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
    profiling,
    running,
)
from textdesk.config import DEMO_TOPICS_DIR

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


def _textdesk_env(
    database: Path, desk_port: int, api_url: str, *, background: bool, inline: bool = True
) -> dict[str, str]:
    env = clean_env(
        TEXTDESK_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        TEXTDESK_PUBLIC_URL=f"http://127.0.0.1:{desk_port}",
        TEXTDESK_SECRET_KEY=secrets.token_urlsafe(48),
        TEXTDESK_SEND_RATE=SEND_RATE,
        TEXTDESK_LOG_LEVEL="WARNING",
        # The packaged demo topics, imported at start (an unset folder imports none).
        TEXTDESK_TOPICS_DIR=str(DEMO_TOPICS_DIR),
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_URL=api_url,
    )
    if not background:
        env["TEXTDESK_RUN_BACKGROUND"] = "0"
    if not inline:
        env["TEXTDESK_INLINE_PROCESSING"] = "0"
    return env


def _fresh_database(env: dict[str, str]) -> None:
    run_textdesk(env, "migrate")
    run_textdesk(env, "numbers", "add", NUMBER, "--purpose", "conversational")


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


@dataclass
class Sent:
    """What the worker sent afterwards for the full-processing runs: the proof of work."""

    expected: int  # replies the calibration predicts for the shown run's texts
    received: int
    texters: dict[str, int]  # "matched", "mismatch", "failed webhook"
    worker_replies_per_s: float | None  # over every run's replies
    outbox_rows: int  # written during the shown run, before the worker started
    note: str = ""


def _outbox_rows(database: Path, prefix: str) -> int:
    """Outbox rows addressed to ``prefix``'s texters: written before any was sent."""
    with sqlite3.connect(database) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM outbox WHERE to_phone LIKE ?", (prefix + "%",)
        ).fetchone()
    return int(count)


class Contender:
    """One target, its servers started once and kept up while every target takes turns.

    Targets are measured in rounds (A, C, inbox only, textdesk, textdesk sending
    too; then again), not one after the other: this machine's speed drifts by tens
    of percent over minutes, and alternating spreads the drift over all of them.
    """

    name: str
    servers: list[Server]  # whose CPU counts as the target's
    target: Target

    def __init__(self, name: str) -> None:
        self.name = name
        self.runs: list[Figures] = []
        self.loads: list[tuple[Figures, LoadResult, str]] = []

    async def open(self, stack: contextlib.ExitStack, args: argparse.Namespace) -> None:
        raise NotImplementedError

    async def measure_round(self, args: argparse.Namespace, round_: int) -> None:
        prefix = measured_prefix(round_)
        figures, load = await measure(self.name, self.target, self.servers, args, prefix)
        self.runs.append(figures)
        self.loads.append((figures, load, prefix))

    def problems(self) -> list[str]:
        return [f"{self.name}: {p}" for s in self.servers for p in s.log_problems()]


class Floor(Contender):
    def __init__(self, name: str, app: str, workdir: Path) -> None:
        super().__init__(name)
        slug = name.replace(" ", "_")
        server = Server(name, app, {}, workdir / f"{slug}.log")
        server.env = clean_env(
            BENCH_PUBLIC_URL=server.url,
            BENCH_AUTH_TOKEN=AUTH_TOKEN,
            BENCH_FLOOR_DB=str(workdir / f"{slug}.db"),
        )
        self.servers = [server]
        self.target = Target(name, server.url, AUTH_TOKEN, ACCOUNT_SID)

    async def open(self, stack: contextlib.ExitStack, args: argparse.Namespace) -> None:
        stack.enter_context(running(self.servers[0]))
        await _warm_up(self.target, args)


def _standin(workdir: Path, slug: str) -> Server:
    return Server(
        "stand-in",
        "benchmarks.standin:create_app",
        clean_env(BENCH_TWILIO_ACCOUNT_SID=ACCOUNT_SID, BENCH_TWILIO_AUTH_TOKEN=AUTH_TOKEN),
        workdir / f"standin_{slug}.log",
    )


class Textdesk(Contender):
    """textdesk on its own fresh, migrated database."""

    def __init__(
        self,
        name: str,
        app: str,
        workdir: Path,
        slug: str,
        *,
        background: bool,
        inline: bool,
        standin: bool,
    ) -> None:
        super().__init__(name)
        self.database = workdir / f"{slug}.db"
        self.standin = _standin(workdir, slug) if standin else None
        self.desk = Server(name, app, {}, workdir / f"{slug}.log")
        self.desk.health = "/readyz"
        api_url = self.standin.url if self.standin else "http://127.0.0.1:9"
        self.desk.env = _textdesk_env(
            self.database, self.desk.port, api_url, background=background, inline=inline
        )
        self.servers = [self.desk]
        self.target = Target(name, self.desk.url, AUTH_TOKEN, ACCOUNT_SID)

    async def open(self, stack: contextlib.ExitStack, args: argparse.Namespace) -> None:
        _fresh_database(self.desk.env)
        if self.standin is not None:
            stack.enter_context(running(self.standin))
        stack.enter_context(running(self.desk))
        await self.prepare(args)
        await _warm_up(self.target, args)
        if self.standin is not None:
            await settle(self.standin.url)  # warm-up replies and callbacks out of the way

    async def prepare(self, args: argparse.Namespace) -> None:
        return None

    def problems(self) -> list[str]:
        found = super().problems()
        if self.standin is not None:
            found += [f"{self.name} stand-in: {p}" for p in self.standin.log_problems()]
        return found


class SendingToo(Textdesk):
    """textdesk as shipped, in one process: answering, sending, status callbacks."""

    def __init__(self, workdir: Path, args: argparse.Namespace) -> None:
        super().__init__(
            ONE_PROCESS,
            TEXTDESK_APPS[args.converser],
            workdir,
            "one_process",
            background=True,
            inline=True,
            standin=True,
        )
        self.calibration: Calibration | None = None
        self.e2e: list[EndToEnd] = []

    async def prepare(self, args: argparse.Namespace) -> None:
        assert self.standin is not None
        print("… textdesk: learning replies per text", file=sys.stderr, flush=True)
        self.calibration = await calibrate(
            self.target, self.standin.url, args.texters, args.messages
        )

    async def measure_round(self, args: argparse.Namespace, round_: int) -> None:
        assert self.standin is not None
        assert self.calibration is not None
        cpu, standin_cpu = self.desk.cpu_seconds(), self.standin.cpu_seconds()
        await super().measure_round(args, round_)
        # The stand-in is Twilio's side: its CPU is counted apart, not as textdesk's.
        _, load, prefix = self.loads[-1]
        e2e, _ = await _end_to_end(self.standin, self.desk, load, self.calibration, prefix)
        per = max(load.requests, 1)
        e2e.pipeline_cpu_ms_per_text = round((self.desk.cpu_seconds() - cpu) / per * 1000, 3)
        e2e.standin_cpu_ms_per_text = round(
            (self.standin.cpu_seconds() - standin_cpu) / per * 1000, 3
        )
        self.e2e.append(e2e)

    def shown_end_to_end(self, shown: Figures) -> EndToEnd:
        return next(e for f, e in zip(self.runs, self.e2e, strict=True) if f is shown)


class Processing(Textdesk):
    """The web process beside a worker: each 200 means stored *and* answered.

    Nothing is sent while the load runs; at the end a ``textdesk worker`` process
    sends the outbox to the stand-in and every texter's replies are matched
    against the calibration, so the figure counts only work that was really done.
    """

    def __init__(self, workdir: Path, args: argparse.Namespace) -> None:
        super().__init__(
            PROCESSING,
            TEXTDESK_APPS[args.converser],
            workdir,
            "processing",
            background=False,
            inline=True,
            standin=True,
        )
        self.outbox_rows: list[int] = []
        self.profile = args.profile

    async def measure_round(self, args: argparse.Namespace, round_: int) -> None:
        assert self.desk.proc is not None
        with profiling(self.desk.proc.pid, self.profile if round_ == 0 else None):
            await super().measure_round(args, round_)
        self.outbox_rows.append(_outbox_rows(self.database, self.loads[-1][2]))

    async def send_afterwards(self, shown: Figures, calibration: Calibration | None) -> Sent:
        assert self.standin is not None
        print("… textdesk: a worker sends what was answered", file=sys.stderr, flush=True)
        rate = await _send_afterwards(
            self.desk, self.standin, self.loads, self.outbox_rows, calibration
        )
        index = next(i for i, (f, _, _) in enumerate(self.loads) if f is shown)
        _, load, prefix = self.loads[index]
        async with httpx.AsyncClient(timeout=10.0) as client:
            answer = await client.get(
                self.standin.url + "/bench/received", params={"prefix": prefix}
            )
        by_to: dict[str, list[float]] = answer.json()["by_to"]
        matched = match_replies(load, by_to, calibration)
        return Sent(
            expected=calibration.expected_for(load) if calibration else 0,
            received=sum(len(v) for v in by_to.values()),
            texters=dict(matched.texters),
            worker_replies_per_s=rate,
            outbox_rows=self.outbox_rows[index],
            note="" if calibration else "no calibration (measured with the one-process target)",
        )


async def _send_afterwards(
    desk: Server,
    standin: Server,
    loads: Sequence[tuple[Figures, LoadResult, str]],
    outbox_rows: Sequence[int],
    calibration: Calibration | None,
) -> float | None:
    """Run ``textdesk worker`` until every run's replies reached the stand-in."""
    with (desk.log.with_name("worker.log")).open("ab") as log:
        worker = subprocess.Popen(  # noqa: ASYNC220 (started once, not waited on here)
            [str(Path(sys.executable).with_name("textdesk")), "worker"],
            env=desk.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            preexec_fn=die_with_parent,  # noqa: PLW1509
        )
    began = time.time()
    try:
        total = 0
        for (_, load, prefix), rows in zip(loads, outbox_rows, strict=True):
            expected = calibration.expected_for(load) if calibration else rows
            total += await drain(standin.url, prefix, expected, time.time())
        await settle(standin.url, quiet_for=QUIET_DONE)
    finally:
        worker.terminate()
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
    parser.add_argument("--messages", type=int, default=40, help="texts per texter, at most (40)")
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds after which texters start no new text (10; 0 = send every text)",
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
    floors: list[Contender] = []
    if args.only in (None, "floors"):
        floors = [Floor(name, app, workdir) for name, app in FLOORS]
    desks: list[Contender] = []
    one = processing = None
    if args.only in (None, "textdesk"):
        inbox_only = Textdesk(
            INBOX_ONLY,
            TEXTDESK_APPS["default"],
            workdir,
            "inbox_only",
            background=False,
            inline=False,
            standin=False,
        )
        one, processing = SendingToo(workdir, args), Processing(workdir, args)
        desks = [inbox_only, processing, one]
    contenders = floors + desks
    with contextlib.ExitStack() as stack:
        for contender in contenders:
            print(f"… starting {contender.name}", file=sys.stderr, flush=True)
            await contender.open(stack, args)
        for round_ in range(args.repeat):
            for contender in contenders:
                print(f"… round {round_ + 1}: {contender.name}", file=sys.stderr, flush=True)
                await contender.measure_round(args, round_)
        for contender in contenders:
            targets[contender.name] = asdict(best(contender.runs))
            results["problems"] += contender.problems()
        if one is not None and processing is not None:
            shown = best(one.runs)
            results["end_to_end"] = asdict(one.shown_end_to_end(shown))
            sent = await processing.send_afterwards(best(processing.runs), one.calibration)
            results["sent_afterwards"] = asdict(sent)
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
