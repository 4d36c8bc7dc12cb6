"""textdesk's answered webhook in one process, without HTTP: CPU and garbage-collector time.

``make bench`` measures the server as deployed, through uvicorn and the loopback;
its figures carry the machine's drift and the load generator's share of the
cores. This drives the ASGI app directly, so the process's CPU time is the
webhook's own work (signature, inbox, the virtual agent, outbox, commit) and
nothing else. It is meant for telling two versions of the code apart: run it a few
times, alternating, and compare the averages.

    .venv/bin/python -m benchmarks.inprocess
    .venv/bin/python -m benchmarks.inprocess --texters 200 --messages 25 --gc-threshold 700

``--gc-threshold`` overrides the youngest generation's threshold after start-up
(textdesk's own is in ``textdesk.bootstrap.settle_heap``). Garbage-collector
time is measured with ``gc.callbacks`` over the timed texts only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.children import run_textdesk
from benchmarks.load import NUMBER, WEBHOOK_PATH, Target, body_for, prepare, texter_phone
from benchmarks.servers import clean_env
from textdesk.config import DEMO_TOPICS_DIR, Settings
from textdesk.web.app import create_app

PUBLIC_URL = "http://textdesk.invalid"
TOKEN = "inprocess-auth-token-" + "0" * 11


@dataclass
class CollectorClock:
    """Time spent in the garbage collector while ``on``, per generation."""

    on: bool = False
    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    runs: list[int] = field(default_factory=lambda: [0, 0, 0])
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if not self.on:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = int(info["generation"])
        self.seconds[generation] += time.perf_counter() - self._started
        self.runs[generation] += 1


def _scope(request: Any) -> dict[str, Any]:
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    headers += [
        (b"host", PUBLIC_URL.split("//", 1)[1].encode()),
        (b"content-length", str(len(request.body)).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": WEBHOOK_PATH,
        "raw_path": WEBHOOK_PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("textdesk.invalid", 80),
    }


async def _post(app: Any, scope: dict[str, Any], body: bytes) -> None:
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:  # the handler never asks twice; a disconnect would be the answer
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))

    await app(scope, receive, send)
    if statuses != [200]:
        raise RuntimeError(f"the webhook answered {statuses}")


async def measure(texters: int, messages: int, warmup: int, gc_threshold: int | None) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="textdesk-inprocess-"))
    settings_env = {
        "TEXTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'textdesk.db'}",
        "TEXTDESK_PUBLIC_URL": PUBLIC_URL,
        "TEXTDESK_SECRET_KEY": "inprocess-secret-Zx4cV7bN1mQ3wE6rT9yU2iO5pA8sD0fG",
        "TWILIO_ACCOUNT_SID": "AC" + "b" * 32,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_URL": "http://127.0.0.1:9",  # nothing is sent: no background loops
        "TEXTDESK_RUN_BACKGROUND": "0",
        "TEXTDESK_TOPICS_DIR": str(DEMO_TOPICS_DIR),
    }
    env = clean_env(**settings_env)
    run_textdesk(env, "migrate")
    run_textdesk(env, "numbers", "add", NUMBER, "--purpose", "conversational")
    os.environ.update(settings_env)  # read by Settings(), below

    app = create_app(Settings(), background=False, settle_heap=True)
    target = Target("textdesk", PUBLIC_URL, TOKEN)
    texts = [
        [prepare(target, texter_phone("+1555", t), body_for(t, m)) for m in range(messages)]
        for t in range(texters)
    ]
    scopes = [[_scope(text) for text in row] for row in texts]

    async def texter(index: int, start: int, stop: int) -> None:
        for m in range(start, stop):
            await _post(app, scopes[index][m], texts[index][m].body)

    collector = CollectorClock()
    gc.callbacks.append(collector)
    try:
        async with app.router.lifespan_context(app):
            if gc_threshold is not None:  # after start-up, which sets textdesk's own
                gc.set_threshold(gc_threshold, *gc.get_threshold()[1:])
            await asyncio.gather(*(texter(t, 0, warmup) for t in range(texters)))
            collector.on = True
            wall, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(texter(t, warmup, messages) for t in range(texters)))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            collector.on = False
    finally:
        gc.callbacks.remove(collector)
    timed = texters * (messages - warmup)
    return (
        f"{timed} texts  {timed / wall:7.0f} texts/s  {1000 * cpu / timed:.4f} ms CPU/text  "
        f"gc {1e6 * sum(collector.seconds) / timed:5.1f} µs/text "
        f"(collections by generation {collector.runs}, threshold {gc.get_threshold()[0]})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--texters", type=int, default=200, help="concurrent texters (200)")
    parser.add_argument("--messages", type=int, default=25, help="texts per texter (25)")
    parser.add_argument("--warmup", type=int, default=3, help="of those, uncounted (3)")
    parser.add_argument("--gc-threshold", type=int, default=None, help="youngest generation's")
    args = parser.parse_args(argv)
    if not 0 <= args.warmup < args.messages:
        parser.error("--warmup must be below --messages")
    print(asyncio.run(measure(args.texters, args.messages, args.warmup, args.gc_threshold)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
