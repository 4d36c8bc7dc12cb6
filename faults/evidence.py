"""Reading what happened: textdesk's inbox and outbox, and the stand-in's accepted sends.

The database is read directly, with the suite's own connection, rather than
through textdesk's API: the API is part of what is under test, and a row that
exists is the only proof a text was stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine

from faults.ledger import Accepted, InboxRow, OutboxRow
from textdesk.adapters.db.tables import inbox, outbox
from textdesk.domain.delivery import FINAL_STATUSES

# Outbox statuses that mean "not yet handed to Twilio".
UNSENT = ("pending", "claimed", "in_doubt")
POLL = 0.5


class Witness:
    """The suite's read-only view of one scenario's database."""

    def __init__(self, sync_url: str) -> None:
        self._engine: Engine = create_engine(sync_url)

    def close(self) -> None:
        self._engine.dispose()

    def inbox(self) -> list[InboxRow]:
        query = select(inbox.c.message_sid, inbox.c.processed_at, inbox.c.error)
        with self._engine.connect() as conn:
            return [
                InboxRow(sid, processed is not None, error)
                for sid, processed, error in conn.execute(query)
            ]

    def outbox(self) -> list[OutboxRow]:
        query = select(
            outbox.c.to_phone,
            outbox.c.body,
            outbox.c.status,
            outbox.c.twilio_sid,
            outbox.c.error_code,
        )
        with self._engine.connect() as conn:
            return [OutboxRow(*row) for row in conn.execute(query)]

    def backlog(self) -> tuple[int, int, int]:
        """(texts not yet processed, replies not yet sent, sent replies without a final status)."""
        with self._engine.connect() as conn:
            unprocessed = conn.scalar(
                select(func.count()).select_from(inbox).where(inbox.c.processed_at.is_(None))
            )
            unsent = conn.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.status.in_(UNSENT))
            )
            open_ = conn.scalar(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.twilio_sid.is_not(None), outbox.c.status.not_in(FINAL_STATUSES))
            )
        return int(unprocessed or 0), int(unsent or 0), int(open_ or 0)


@dataclass(frozen=True)
class StandinReport:
    accepted: list[Accepted]
    sids: list[str]
    refused_sends: int
    callbacks_lost: int
    callbacks_reordered: int


def standin_report(standin_url: str) -> StandinReport:
    """Every send the stand-in accepted, and how many faults it injected."""
    data = httpx.get(standin_url + "/faults/sent", timeout=30.0).json()
    return StandinReport(
        accepted=[Accepted(m["to"], m["body"]) for m in data["messages"]],
        sids=[m["sid"] for m in data["messages"]],
        refused_sends=int(data["refused_sends"]),
        callbacks_lost=int(data["callbacks_lost"]),
        callbacks_reordered=int(data["callbacks_reordered"]),
    )


def drain(witness: Witness, standin_url: str, *, timeout: float, final: bool = True) -> float:
    """Wait until nothing is left to do (or ``timeout``); the seconds it took.

    Done means every stored text processed, no reply waiting to be sent and, with
    ``final``, every sent reply at a final status; the stand-in's count of
    accepted sends must also have stopped moving, so a late duplicate still counts.
    """
    began = time.monotonic()
    last_count = -1
    while time.monotonic() - began < timeout:
        unprocessed, unsent, open_ = witness.backlog()
        count = int(httpx.get(standin_url + "/bench/count", timeout=30.0).json()["messages"])
        if not unprocessed and not unsent and not (final and open_) and count == last_count:
            break
        last_count = count
        time.sleep(POLL)
    return time.monotonic() - began
