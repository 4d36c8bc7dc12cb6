"""End-to-end latency: pairing each texter's texts with the replies the stand-in got."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.load import (
    BODIES,
    LoadResult,
    RawConnection,
    Target,
    body_for,
    percentile,
    prepare,
    texter_phone,
)

CALIBRATION_PREFIX = "+1555040"  # one texter per sequence, learning reply counts
CALIBRATION_POLL = 0.05
CALIBRATION_QUIET = 0.5  # replies to one text follow each other within milliseconds
CALIBRATION_NONE = 2.0  # no reply this long after a text on an idle server: none comes
CALIBRATION_LIMIT = 40.0
NO_REPLY_GRACE = 5.0  # no reply at all this long after the last webhook: no agent answers
QUIET_DONE = 1.5  # all expected replies in and nothing new for this long: done
QUIET_STALLED = 10.0  # fewer than expected and nothing new for this long: give up
DRAIN_LIMIT = 60.0  # never wait longer than this for the backlog
POLL = 0.1


@dataclass
class EndToEnd:
    """Webhook sent → reply accepted by the stand-in, for textdesk."""

    expected: int  # replies the calibration predicts for the texts answered 200
    received: int
    calibrated_replies_per_text: float | None
    calibration_s: float | None
    texters: dict[str, int]  # "matched", "mismatch", "failed webhook"
    matched_texts: int  # texts that drew at least one reply, of matched texters
    first_reply_p50_ms: float | None
    first_reply_p99_ms: float | None
    last_reply_p50_ms: float | None
    last_reply_p99_ms: float | None
    drain_s: float | None  # last webhook answered → last reply received
    replies_per_s: float | None  # first webhook → last reply
    pipeline_cpu_ms_per_text: float  # textdesk CPU from first webhook until drained
    standin_cpu_ms_per_text: float
    callbacks: dict[str, Any]
    note: str = ""


def ms(values: Sequence[float], q: float) -> float | None:
    return round(percentile(values, q) * 1000, 1) if values else None


@dataclass
class Matched:
    first: list[float] = field(default_factory=list)  # text sent → its first reply
    last: list[float] = field(default_factory=list)  # text sent → its last reply
    texts: int = 0
    texters: Counter[str] = field(default_factory=Counter)  # "matched", "mismatch", …


def match_replies(
    load: LoadResult, by_to: dict[str, list[float]], calibration: Calibration | None
) -> Matched:
    """Pair each texter's texts with the replies it received, without reading them.

    One texter's replies arrive in the order they were written (textdesk sends a
    person's texts strictly in order), and the replies to one text are written
    together.  So once we know how many replies each text draws (the calibration:
    texters with the same sequence hold the same conversation), a texter's replies
    split into one group per text: the group's first reply gives "time to first
    reply", its last "time to the whole answer".  Without a calibration, a texter
    with exactly k replies per text is split in groups of k.  A texter whose count
    does not fit (or with a failed webhook) is counted as a mismatch, not guessed.
    """
    out = Matched()
    for index, log in enumerate(load.texters):
        replies = by_to.get(log.phone, [])
        if not all(log.ok):
            out.texters["failed webhook"] += 1
            continue
        if calibration is not None:
            # A run cut short by --duration: only the texts this texter got to send.
            counts = calibration.counts_for(index)[: len(log.sent_at)]
        elif replies and len(replies) % len(log.sent_at) == 0:
            counts = [len(replies) // len(log.sent_at)] * len(log.sent_at)
        else:
            counts = None
        if counts is None or sum(counts) != len(replies):
            out.texters["mismatch"] += 1
            continue
        out.texters["matched"] += 1
        start = 0
        for sent, n in zip(log.sent_at, counts, strict=True):
            if n:
                out.first.append(replies[start] - sent)
                out.last.append(replies[start + n - 1] - sent)
                out.texts += 1
            start += n
    return out


@dataclass
class Calibration:
    """Replies drawn by each text of each conversation the texters hold."""

    counts: list[list[int]]  # [sequence][text] → number of replies
    seconds: float

    def counts_for(self, texter: int) -> list[int]:
        return self.counts[texter % len(self.counts)]

    @property
    def silent(self) -> bool:
        return not any(any(row) for row in self.counts)

    def expected_for(self, load: LoadResult) -> int:
        """Replies due for the texts of ``load`` that were answered 200."""
        return sum(
            n
            for i, log in enumerate(load.texters)
            for n, ok in zip(self.counts_for(i), log.ok, strict=False)
            if ok
        )


async def calibrate(target: Target, standin: str, texters: int, messages: int) -> Calibration:
    """Learn how many replies each text draws, one text at a time per sequence.

    One calibration texter per distinct sequence (see ``body_for``) sends its
    texts in lockstep with the others, waiting after each until its replies stop
    coming.  On an idle server that takes a fraction of a second per text.  If not
    one first text draws a reply, the agent is silent and we stop there.
    """
    began = time.monotonic()
    sequences = min(len(BODIES), texters)
    phones = [texter_phone(CALIBRATION_PREFIX, c) for c in range(sequences)]
    counts: list[list[int]] = [[] for _ in range(sequences)]
    seen = [0] * sequences
    connections = [RawConnection(target.url) for _ in range(sequences)]
    async with httpx.AsyncClient(timeout=5.0) as client:

        async def replies_to(phone: str) -> int:
            answer = await client.get(standin + "/bench/count", params={"prefix": phone})
            return int(answer.json()["messages"])

        async def one_text(c: int, text: int) -> None:
            status = await connections[c].send(prepare(target, phones[c], body_for(c, text)))
            if status != 200:
                raise RuntimeError(f"calibration webhook answered {status}")
            sent = last_change = time.monotonic()
            got = seen[c]
            while True:
                await asyncio.sleep(CALIBRATION_POLL)
                now_got = await replies_to(phones[c])
                now = time.monotonic()
                if now_got != got:
                    got, last_change = now_got, now
                if got == seen[c] and now - sent >= CALIBRATION_NONE:
                    break  # this text draws no reply
                if got > seen[c] and now - last_change >= CALIBRATION_QUIET:
                    break
            counts[c].append(got - seen[c])
            seen[c] = got

        try:
            for text in range(messages):
                if time.monotonic() - began > CALIBRATION_LIMIT:
                    raise RuntimeError(f"calibration took over {CALIBRATION_LIMIT:g}s")
                await asyncio.gather(*(one_text(c, text) for c in range(sequences)))
                if text == 0 and not any(seen):
                    # Silent: no first text drew a reply; the rest would not either.
                    counts = [[0] * messages for _ in range(sequences)]
                    break
        finally:
            await asyncio.gather(*(conn.close() for conn in connections))
    return Calibration(counts, round(time.monotonic() - began, 2))


async def drain(standin: str, prefix: str, expected: int, since: float) -> int:
    """Wait until the replies stop coming; return how many arrived."""
    count = 0
    last_change = time.monotonic()
    began = time.monotonic()
    async with httpx.AsyncClient(timeout=5.0) as client:
        while True:
            answer = await client.get(standin + "/bench/count", params={"prefix": prefix})
            now = time.monotonic()
            got = int(answer.json()["messages"])
            if got != count:
                count, last_change = got, now
            quiet = now - last_change
            if count == 0 and time.time() - since >= NO_REPLY_GRACE:
                return 0
            if count >= expected and quiet >= QUIET_DONE:
                return count
            if quiet >= QUIET_STALLED or now - began >= DRAIN_LIMIT:
                return count
            await asyncio.sleep(POLL)


async def settle(standin: str, limit: float = 15.0, quiet_for: float = 1.0) -> None:
    """Wait until the stand-in sees no new sends or callbacks for ``quiet_for`` seconds."""
    seen: Any = None
    last_change = began = time.monotonic()
    async with httpx.AsyncClient(timeout=5.0) as client:
        while time.monotonic() - began < limit:
            now_seen = (await client.get(standin + "/bench/count")).json()
            if now_seen != seen:
                seen, last_change = now_seen, time.monotonic()
            elif time.monotonic() - last_change >= quiet_for:
                return
            await asyncio.sleep(POLL)
