"""A Twilio outage of 10 minutes, on a clock running 10 times faster.

Twilio answers every API request with 500 for ``OUTAGE`` seconds while texters
keep writing in; then it recovers.  Every reply must then go out, once each.

Ten real minutes would take most of the suite's budget, so time is compressed
by configuration, the same factor everywhere it matters: the outage lasts
60 s instead of 600 s, and textdesk's retry timings are divided by 10 too
(backoff base 1 s -> 0.1 s, backoff cap 300 s -> 30 s, retry window 4 h ->
24 min).  What a 10-minute outage tests is the ratio of the outage to those
timings (how many attempts fall inside it, whether the window outlasts it),
and that ratio is kept.
"""

from __future__ import annotations

import asyncio
import time

from faults.context import Context, blocking
from faults.databases import Database
from faults.evidence import standin_report
from faults.ledger import Row, tally
from faults.stage import stage
from faults.texters import converse

COMPRESSION = 10
OUTAGE = 600 / COMPRESSION
# Each setting is its default (or the real-time figure) divided by COMPRESSION.
COMPRESSED_SETTINGS = {
    "TEXTDESK_RETRY_BASE_SECONDS": str(1.0 / COMPRESSION),
    "TEXTDESK_RETRY_MAX_SECONDS": str(300 / COMPRESSION),
    "TEXTDESK_SEND_GIVE_UP_AFTER": str(4 * 3600 // COMPRESSION),
}
# After the outage: at most one capped backoff plus its jitter, and the sends.
DRAIN_TIMEOUT = 2 * 300 / COMPRESSION + 30


async def _outage(
    context: Context, name: str, slug: str, database: Database, *flags: str, redis: bool = False
) -> Row:
    """Twilio answers 500 to everything for 60 s (10 min / 10) while texts keep coming."""
    settings = dict(COMPRESSED_SETTINGS)
    with stage(context, name, slug, database, redis=redis, settings=settings) as current:
        web = current.web(*flags)
        await blocking(web.start)
        current.control("/faults/outage", seconds=str(OUTAGE), status="500")
        ends = time.monotonic() + OUTAGE
        async with current.twilio() as twilio:
            # Texts arrive through the outage's first two thirds, so replies wait
            # for different lengths of time when Twilio comes back.
            await converse(twilio, texters=20, texts=8, prefix="+1555040", pause=OUTAGE * 2 / 3 / 8)
        await asyncio.sleep(max(0.0, ends - time.monotonic()))
        waited = await blocking(lambda: current.drain(timeout=DRAIN_TIMEOUT))
        report = standin_report(current.standin.url)
        notes = [
            f"{report.refused_sends} sends answered 500 during the outage",
            f"time compressed {COMPRESSION}x: "
            + ", ".join(f"{k}={v}" for k, v in COMPRESSED_SETTINGS.items()),
            f"drained {waited:.0f} s after the outage",
        ]
        return tally(name, current.evidence(twilio), notes)


async def outage_sqlite(context: Context) -> Row:
    """The outage against one ``textdesk serve`` on SQLite."""
    name = f"Twilio outage {OUTAGE:.0f} s (10 min / {COMPRESSION}) (SQLite)"
    return await _outage(context, name, "outage-sqlite", context.sqlite("outage-sqlite"))


async def outage_postgres(context: Context) -> Row:
    """The outage against ``serve --workers 2`` on PostgreSQL + Redis: both dispatch."""
    name = f"Twilio outage {OUTAGE:.0f} s, serve --workers 2 (PG+Redis)"
    return await _outage(
        context, name, "outage-postgres", context.postgres(), "--workers", "2", redis=True
    )
