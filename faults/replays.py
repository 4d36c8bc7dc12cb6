"""The same webhook twice, and spliced webhooks that still carry a valid signature.

Twilio may deliver one text more than once (its retries, a fallback URL), one
after another or at the same moment: each must be stored and answered once.

Twilio signs the concatenation ``name + value`` of the sorted fields, with no
separator, so moving a field into its neighbour's value keeps the signature:
a captured form whose ``NumMedia=0`` is dropped and appended to the sid
(``MessageSid=SM…NumMedia0``) verifies, and is a "new" text unless refused.  The
same splice of ``SmsSid`` into ``SmsMessageSid`` leaves the sids disagreeing.
Both replays must be refused (not answered 200) and nothing stored.
"""

from __future__ import annotations

import asyncio

from benchmarks.load import NUMBER, body_for, texter_phone, webhook_form

from faults.context import Context, blocking
from faults.databases import Database
from faults.ledger import Row, tally
from faults.stage import stage
from faults.texters import Twilio, new_sid

TEXTERS = 30
SEQUENTIAL_COPIES = 2  # Twilio's retries of a text already answered
CONCURRENT_COPIES = 5  # copies of one text arriving at the same moment
DRAIN_TIMEOUT = 45.0


def splice_sid(form: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``NumMedia`` dropped and its name and value appended to ``MessageSid``."""
    num_media = dict(form)["NumMedia"]
    return [
        (k, v + "NumMedia" + num_media if k == "MessageSid" else v)
        for k, v in form
        if k != "NumMedia"
    ]


def splice_sms_sid(form: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``SmsSid`` dropped and appended to ``SmsMessageSid``: the sids no longer agree."""
    sms_sid = dict(form)["SmsSid"]
    return [
        (k, v + "SmsSid" + sms_sid if k == "SmsMessageSid" else v) for k, v in form if k != "SmsSid"
    ]


class Replayer:
    """One texter's texts, each delivered with its copies or followed by a splice."""

    def __init__(self, twilio: Twilio, phone: str, index: int) -> None:
        self.twilio = twilio
        self.phone = phone
        self.index = index
        self.turn = 0
        self.forged_acknowledged: set[str] = set()

    def _form(self) -> list[tuple[str, str]]:
        sid = new_sid()
        self.twilio.genuine.add(sid)
        body = body_for(self.index, self.turn)
        self.turn += 1
        return webhook_form(
            account_sid=self.twilio.account_sid, from_=self.phone, to=NUMBER, body=body, sid=sid
        )

    async def _copy(self, form: list[tuple[str, str]]) -> None:
        if await self.twilio.post_once("/twilio/sms", form) == 200:
            self.twilio.acknowledged.add(dict(form)["MessageSid"])

    async def run(self) -> None:
        first = self._form()
        await self.twilio.deliver(first)
        for _ in range(SEQUENTIAL_COPIES):
            await self._copy(first)
        together = self._form()
        await asyncio.gather(*(self._copy(together) for _ in range(CONCURRENT_COPIES)))
        for splice in (splice_sid, splice_sms_sid):
            genuine = self._form()
            await self.twilio.deliver(genuine)
            spliced = splice(genuine)
            status = await self.twilio.post_once("/twilio/sms", spliced, sign_as=genuine)
            if status is not None and 200 <= status < 300:
                # Named by the sid it would be stored under, so stored and answered
                # 200 count once.
                sid = dict(spliced)["MessageSid"]
                if sid == dict(genuine)["MessageSid"]:
                    sid = f"{sid} (SmsMessageSid spliced)"
                self.forged_acknowledged.add(sid)


async def _replays(context: Context, name: str, slug: str, database: Database) -> Row:
    with stage(context, name, slug, database) as current:
        web = current.web()
        await blocking(web.start)
        async with current.twilio() as twilio:
            replayers = [Replayer(twilio, texter_phone("+1555050", i), i) for i in range(TEXTERS)]
            await asyncio.gather(*(r.run() for r in replayers))
        await blocking(lambda: current.drain(timeout=DRAIN_TIMEOUT))
        evidence = current.evidence(twilio)
        evidence.forged_acknowledged = set().union(*(r.forged_acknowledged for r in replayers))
        notes = [
            f"{TEXTERS} texters: one text re-posted {SEQUENTIAL_COPIES} times after its 200, "
            f"one posted {CONCURRENT_COPIES} times at once, two captured texts replayed "
            f"spliced (sid+NumMedia, SmsMessageSid+SmsSid)",
            "answers to all posts: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(twilio.statuses.items())),
        ]
        return tally(name, evidence, notes)


async def replays_sqlite(context: Context) -> Row:
    """Duplicates and splices against ``textdesk serve`` on SQLite."""
    slug = "replays-sqlite"
    return await _replays(context, "duplicates and splices (SQLite)", slug, context.sqlite(slug))


async def replays_postgres(context: Context) -> Row:
    """Duplicates and splices against ``textdesk serve`` on PostgreSQL."""
    name = "duplicates and splices (PostgreSQL)"
    return await _replays(context, name, "replays-postgres", context.postgres())
