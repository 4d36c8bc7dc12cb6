"""kill -9 under load: the web process, one of ``serve --workers 2``, a ``textdesk worker``.

Each scenario keeps texters talking, kills one process with SIGKILL a few
seconds in (no shutdown handler runs, no transaction is finished), starts it
again as a supervisor would (or lets uvicorn's supervisor do it), lets the
texts that Twilio retried meanwhile come in, and waits for the backlog to
drain.  Whatever a 200 promised must then be stored, answered and sent once.
"""

from __future__ import annotations

import asyncio
import time

from faults.context import Context, blocking
from faults.databases import Database
from faults.ledger import Row, tally
from faults.processes import Textdesk
from faults.stage import Stage, stage
from faults.texters import converse

KILL_AFTER = 4.0  # seconds into the load
DRAIN_TIMEOUT = 90.0


async def _kill_and_restart(victim: Textdesk) -> str:
    await asyncio.sleep(KILL_AFTER)
    began = time.monotonic()
    await blocking(victim.kill9)
    await blocking(victim.start)
    back = time.monotonic() - began
    return f"{victim.name} killed {KILL_AFTER:.0f} s in, serving again {back:.1f} s later"


async def _kill_one_worker(web: Textdesk) -> str:
    await asyncio.sleep(KILL_AFTER)
    before = set(web.workers())
    pid = await blocking(web.kill9_worker)
    began = time.monotonic()
    # uvicorn's supervisor replaces the dead worker; poll the process table until it has
    # (no event to wait on: the supervisor is another process).
    while time.monotonic() - began < 30 and (  # noqa: ASYNC110
        len(web.workers()) < len(before) or pid in web.workers()
    ):
        await asyncio.sleep(0.2)
    replaced = time.monotonic() - began
    return (
        f"worker {pid} of 2 killed {KILL_AFTER:.0f} s in; uvicorn started another "
        f"{replaced:.1f} s later"
    )


async def _run(
    name: str, context: Context, current: Stage, prefix: str, fault: asyncio.Future[str]
) -> Row:
    """Texters talk while ``fault`` strikes; then drain and count."""
    load = context.load
    async with current.twilio() as twilio:
        talking = asyncio.ensure_future(
            converse(
                twilio,
                texters=load.texters,
                texts=load.texts,
                prefix=prefix,
                pause=load.pause,
            )
        )
        what, _ = await asyncio.gather(fault, talking)
    waited = await blocking(lambda: current.drain(timeout=DRAIN_TIMEOUT))
    notes = [what, f"drained {waited:.0f} s after the last text"]
    if twilio.given_up:
        notes.append(f"{twilio.given_up} texts never answered 200 within Twilio's retries")
    return tally(name, current.evidence(twilio), notes)


async def _kill_web(context: Context, name: str, slug: str, database: Database) -> Row:
    with stage(context, name, slug, database) as current:
        web = current.web()
        await blocking(web.start)
        return await _run(
            name, context, current, "+1555010", asyncio.ensure_future(_kill_and_restart(web))
        )


async def kill_web_sqlite(context: Context) -> Row:
    """kill -9 of ``textdesk serve`` on SQLite; restarted at once."""
    slug = "kill-web-sqlite"
    return await _kill_web(context, "kill -9 web (SQLite)", slug, context.sqlite(slug))


async def kill_web_postgres(context: Context) -> Row:
    """kill -9 of ``textdesk serve`` on PostgreSQL; restarted at once."""
    name = "kill -9 web (PostgreSQL)"
    return await _kill_web(context, name, "kill-web-postgres", context.postgres())


async def kill_one_of_two(context: Context) -> Row:
    """kill -9 of one process of ``serve --workers 2`` on PostgreSQL + Redis."""
    name = "kill -9 1 of serve --workers 2 (PG+Redis)"
    with stage(context, name, "kill-one-of-two", context.postgres(), redis=True) as current:
        web = current.web("--workers", "2")
        await blocking(web.start)
        return await _run(
            name, context, current, "+1555020", asyncio.ensure_future(_kill_one_worker(web))
        )


async def kill_worker(context: Context) -> Row:
    """kill -9 of ``textdesk worker`` beside ``serve --no-dispatcher``, on PostgreSQL."""
    name = "kill -9 textdesk worker (PostgreSQL)"
    with stage(context, name, "kill-worker", context.postgres()) as current:
        web = current.web("--no-dispatcher")
        worker = current.worker()
        await blocking(web.start)
        await blocking(worker.start)
        return await _run(
            name, context, current, "+1555030", asyncio.ensure_future(_kill_and_restart(worker))
        )
