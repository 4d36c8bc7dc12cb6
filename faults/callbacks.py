"""Status callbacks out of order and lost: every sent reply must still reach a final status.

Twilio promises neither order nor delivery of status callbacks.  Here the
stand-in holds every ``sent`` callback back so ``delivered`` arrives first (a
status must never move backwards), and loses a share of all callbacks (as
when they reach a process that is down).  textdesk must then ask Twilio about
messages that stayed without a final status, and the "stuck" column counts
sent replies still without one when the suite stops waiting.
"""

from __future__ import annotations

from faults.context import Context, blocking
from faults.evidence import standin_report
from faults.ledger import Row, tally
from faults.stage import stage
from faults.texters import converse

LOSE = 0.3
# How long textdesk is given to notice and reconcile, after the last callback.
RECONCILE_TIMEOUT = 60.0


async def callbacks_out_of_order_and_lost(context: Context) -> Row:
    """30 % of callbacks lost, every ``sent`` overtaken by its ``delivered``."""
    name = f"callbacks reordered, {LOSE:.0%} lost (SQLite)"
    slug = "callbacks"
    with stage(context, name, slug, context.sqlite(slug)) as current:
        web = current.web()
        await blocking(web.start)
        current.control("/faults/callbacks", lose=str(LOSE), reorder="1")
        async with current.twilio() as twilio:
            await converse(twilio, texters=20, texts=10, prefix="+1555060", pause=0.3)
        waited = await blocking(lambda: current.drain(timeout=RECONCILE_TIMEOUT))
        report = standin_report(current.standin.url)
        notes = [
            f"{report.callbacks_lost} callbacks lost, {report.callbacks_reordered} 'sent' "
            "callbacks posted after 'delivered'",
            f"waited {waited:.0f} s for final statuses",
        ]
        return tally(name, current.evidence(twilio), notes)
