"""Processing the inbox: each text through the virtual agent, replies into the outbox.

One transaction per batch: the conversation states, the transcript, the replies and
the "processed" marks commit together, so a crash leaves either all of a batch or
none of it, and unprocessed rows are simply picked up again.

Two callers share that work.  A text that has just been written to the inbox is
processed in the same group-commit transaction, before its webhook is answered
(:meth:`InboxProcessor.process_arrivals`); the background loop (:meth:`run_once`)
takes everything else: texts with attachments, which are downloaded first and
must not hold the write lock meanwhile, texts queued behind those, and whatever a
crash or another process left unprocessed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from textdesk import metrics
from textdesk.domain.agent.awaiting import CLAIM_SECONDS, Awaiting, gave_up
from textdesk.domain.agent.messages import EffectResult, InboundText, MediaRef, Reply, Texter
from textdesk.domain.twilio_forms import can_answer
from textdesk.ports import (
    AnsweringRepositories,
    CheckedImage,
    Clock,
    ConversationRow,
    ImageChecker,
    InboundRow,
    MediaFetcher,
    NewMessage,
    ReadingUnitOfWork,
    TexterProfile,
    TexterProfiles,
    TranscriptEntry,
)

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on our side. Please try again, or reply AGENT."
NOT_A_PHONE = "not answered: the sender is not a phone number that can be texted back"


def _key(row: InboundRow) -> tuple[str, str]:
    """A text's conversation: (texter phone, our number), the unit of locking and order."""
    return (row.from_phone, row.to_phone)


def texter_of(phone: str, profile: TexterProfile | None) -> Texter:
    """The texter as the virtual agent knows them: a guest unless the directory knows them."""
    if profile is None:
        return Texter(phone)
    return Texter(phone, user_id=profile.user_id, name=profile.name, account=profile.account)


def ready_in_order(queued: Sequence[InboundRow], wanted: set[str]) -> list[InboundRow]:
    """Which of the ``wanted`` texts can be processed now without overtaking another.

    ``queued`` is every unprocessed text of the conversations concerned.  In each
    conversation, texts are taken oldest first up to the first one that is not
    wanted here or has attachments to download: that one, and all after it, wait
    for the background loop, so one person's texts are never answered out of order.
    """
    blocked: set[tuple[str, str]] = set()
    ready: list[InboundRow] = []
    for row in sorted(queued, key=lambda r: r.id):
        key = _key(row)
        if key in blocked:
            continue
        if row.message_sid not in wanted or row.media:
            blocked.add(key)
            continue
        ready.append(row)
    return ready


def _not_overtaking(rows: Sequence[InboundRow], ran: dict[int, _Ran]) -> list[InboundRow]:
    """The rows a batch may answer: a turn still waiting holds its conversation's later texts.

    A waiting row is taken only when its effect has just run for the very try saved
    on it (re-read under the lock: another process may have resumed it meanwhile).
    """
    blocked: set[tuple[str, str]] = set()
    out: list[InboundRow] = []
    for row in rows:
        key = _key(row)
        if key in blocked:
            continue
        if row.awaiting is not None:
            done = ran.get(row.id)
            if done is None or done.saved != row.awaiting:
                blocked.add(key)
                continue
        out.append(row)
    return out


@dataclass(frozen=True, slots=True)
class _Batch:
    """What one batch's transaction wrote: the conversations, and whether a turn waits."""

    touched: set[int]
    waiting: bool
    resumed: frozenset[int] = frozenset()  # inbox ids of waiting turns that went on


@dataclass
class TextInContext:
    """One inbound text in context, handed to the conversation logic."""

    repos: AnsweringRepositories  # the turn's transaction, and the effects' ports in it
    conversation_id: int
    texter: Texter
    number: str
    text: InboundText
    media: list[dict[str, Any]]  # pre-fetched: url, content_type, key | error
    now: datetime


@dataclass
class ConverseOutcome:
    """What conversing on one text decided: the state and mode to keep, what to send."""

    state: dict[str, Any] | None
    mode: str
    replies: list[Reply] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # transcript lines for staff only
    # The turn stopped before a remote effect: the text stays unprocessed, waiting.
    awaiting: Awaiting | None = None


class Converser(Protocol):
    """Decides what to say to one inbound text (the virtual agent, or a live agent's queue)."""

    async def converse(
        self, turn: TextInContext, state: dict[str, Any] | None, mode: str
    ) -> ConverseOutcome: ...


class Resumer(Protocol):
    """Finishes turns that stopped before a remote effect (``domain/agent/awaiting.py``)."""

    async def run_awaiting(
        self, awaiting: Awaiting, *, texter: Texter, now: datetime, key: str
    ) -> EffectResult:
        """Run the effect, outside any transaction; raises when the remote store fails."""
        ...

    async def resume(
        self,
        turn: TextInContext,
        state: dict[str, Any] | None,
        *,
        done: int,
        result: EffectResult,
        awaited: Awaiting | None = None,
        key: str | None = None,
    ) -> ConverseOutcome:
        """Go on with a waiting turn; ``done``: the effects it ran, the awaited one too;
        ``awaited`` and ``key``: that effect and its key, when its wait could be read."""
        ...


class SilentConverser:
    """Records the text and replies nothing: the channel without a virtual agent."""

    async def converse(
        self, turn: TextInContext, state: dict[str, Any] | None, mode: str
    ) -> ConverseOutcome:
        return ConverseOutcome(state=state, mode=mode)


@dataclass(frozen=True, slots=True)
class _Ran:
    """A remote effect run before the batch: the row's saved wait, and what it gave."""

    saved: dict[str, Any]  # inbox.awaiting as read: resumed only if still the same
    done: int  # the turn's effects so far, the awaited one included
    result: EffectResult
    awaited: Awaiting | None = None  # None when the saved wait could not be read
    key: str | None = None  # the awaited effect's key


@dataclass(frozen=True, slots=True)
class Answered:
    """What answering one batch's new texts came to, acted on once the batch commits."""

    conversations: AbstractSet[int]  # whose replies and transcripts were written
    deferred: bool  # some texts were stored for the inbox loop to answer


NOTHING_ANSWERED: Final = Answered(frozenset(), deferred=False)


class InboxProcessor:
    def __init__(
        self,
        *,
        uow: ReadingUnitOfWork[AnsweringRepositories],
        converser: Converser,
        fetcher: MediaFetcher,
        images: ImageChecker,
        clock: Clock,
        batch_size: int = 200,
        max_pixels: int,
        on_enqueued: Callable[[], None] = lambda: None,
        on_processed: Callable[[AbstractSet[int]], None] = lambda ids: None,
        on_deferred: Callable[[], None] = lambda: None,
        resumer: Resumer | None = None,
        profiles: TexterProfiles | None = None,
    ) -> None:
        self._uow = uow
        self._profiles = profiles
        self._converser = converser
        self._images = images
        self._resumer = resumer
        self._fetcher = fetcher
        self._clock = clock
        self._batch = batch_size
        self._max_pixels = max_pixels
        self._on_enqueued = on_enqueued
        self._on_processed = on_processed
        self._on_deferred = on_deferred

    async def run_once(self) -> int:
        """Process one batch of pending texts; returns how many were processed."""
        async with self._uow.read() as repos:
            rows = await repos.inbox.pending(limit=self._batch)
        if not rows:
            metrics.INBOX_LAG.set(0)
            return 0
        metrics.INBOX_LAG.set(max(0.0, (self._clock.now() - rows[0].received_at).total_seconds()))
        rows = await self._prefetch_media(rows)
        await self._look_up_texters(rows)
        ran = await self._run_awaiting(rows)
        with metrics.PROCESS_SECONDS.time():
            batch = await self._process(rows, ran)
        touched = batch.touched
        unused = [i for i in ran if i not in batch.resumed]
        if unused:
            # Their conversations were locked elsewhere just now: call again next round,
            # not once the claim runs out (the call's key keeps a create to one).
            async with self._uow.begin() as repos:
                await repos.inbox.release_awaiting(unused)
        if touched:
            self._on_enqueued()
            self._on_processed(touched)
        return len(touched)

    async def _look_up_texters(self, rows: Sequence[InboundRow]) -> None:
        """Let another service's user index look for the numbers it does not know.

        Here, before the batch's transaction, since that may call the service; the
        batch then finds who texts in memory.  The webhook's own transaction makes no
        call: a text whose number the index cannot answer for yet is left to this
        loop (see :meth:`process_arrivals`).
        """
        if self._profiles is None:
            return
        phones = sorted({r.from_phone for r in rows if can_answer(r.from_phone)})
        try:
            await self._profiles.look_up(phones)
        except Exception:
            # The index keeps what it read last: texters it knew are still known.
            log.warning("looking up %d texters failed; answering from the index", len(phones))

    async def _prefetch_media(self, rows: Sequence[InboundRow]) -> list[InboundRow]:
        """Download and verify every attachment before the batch transaction.

        Network waits must not hold the database's write lock; the results (stored
        key or a reason) are saved on the inbox row so a retry does not fetch twice.
        """
        out: list[InboundRow] = []
        for row in rows:
            pending = any("key" not in m and "error" not in m for m in row.media)
            # Nothing to fetch, or for a text that will not be answered (see below).
            if not pending or not can_answer(row.from_phone):
                out.append(row)
                continue
            results = await asyncio.gather(*(self._fetch_one(m) for m in row.media))
            async with self._uow.begin() as repos:
                resolved: list[dict[str, Any]] = []
                for item, (data, image, error) in zip(row.media, results, strict=True):
                    entry = dict(item)
                    if data is not None and image is not None:
                        entry["key"] = await repos.media.save(
                            data=data,
                            content_type=image.content_type,
                            now=self._clock.now(),
                            source_url=item["url"],
                            preview=(image.preview, image.preview_type),
                        )
                        entry["decoded"] = image.content_type
                    else:
                        entry["error"] = error or "fetch_failed"
                    resolved.append(entry)
                await repos.inbox.set_media(row.id, resolved)
            out.append(replace(row, media=resolved))
        return out

    async def _fetch_one(
        self, item: dict[str, Any]
    ) -> tuple[bytes | None, CheckedImage | None, str | None]:
        if "key" in item or "error" in item:
            return None, None, item.get("error")
        data, error = await self._fetcher.fetch(str(item["url"]))
        if data is None:
            return None, None, error
        # Decoding is CPU work: off the event loop, which serves webhooks meanwhile.
        image = await asyncio.to_thread(self._images.check, data, max_pixels=self._max_pixels)
        if isinstance(image, str):
            return None, None, image  # refused, and why
        return data, image, None

    async def _run_awaiting(self, rows: Sequence[InboundRow]) -> dict[int, _Ran]:
        """Run the remote effects that turns wait on, before the batch's transaction.

        A call that fails is tried again later (the row stays waiting, with its
        conversation's later texts behind it); past the last try the turn goes on
        with the failure.  The effect's key is the same for every try.
        """
        waiting = [r for r in rows if r.awaiting is not None]
        if not waiting or self._resumer is None:
            return {}
        now = self._clock.now()
        async with self._uow.read() as repos:
            users = await repos.directory.profiles_by_phone(sorted({r.from_phone for r in waiting}))
        ran: dict[int, _Ran] = {}
        retries: dict[int, dict[str, Any] | None] = {}
        for row in waiting:
            assert row.awaiting is not None
            try:
                awaiting = Awaiting.from_dict(row.awaiting)
            except (KeyError, TypeError, ValueError):
                # Saved by another version, or damaged: the turn cannot wait on it, and
                # must not hold up the loop; it goes on as if the store never answered.
                log.error("inbound %s waits on an unreadable effect; going on", row.message_sid)
                ran[row.id] = _Ran(row.awaiting, 1, gave_up())
                continue
            if not awaiting.due(now) or not await self._claim(row.id, now):
                continue  # not yet, or another process is calling it right now
            texter = texter_of(row.from_phone, users.get(row.from_phone))
            try:
                result = await self._resumer.run_awaiting(
                    awaiting, texter=texter, now=now, key=awaiting.key(row.message_sid)
                )
            except Exception:
                later = awaiting.failed(now)
                log.warning(
                    "the record system failed on inbound %s (try %d); %s",
                    row.message_sid,
                    awaiting.attempts + 1,
                    "trying again later" if later else "going on without it",
                    exc_info=True,
                )
                if later is not None:
                    retries[row.id] = later.to_dict()
                    continue
                result = gave_up()
            key = awaiting.key(row.message_sid)
            ran[row.id] = _Ran(row.awaiting, awaiting.number, result, awaiting, key)
        if retries:
            async with self._uow.begin() as repos:
                await repos.inbox.set_awaiting(retries)
        return ran

    async def _claim(self, inbox_id: int, now: datetime) -> bool:
        """Take the row's remote call for this process, so no other makes it too."""
        until = now + timedelta(seconds=CLAIM_SECONDS)
        async with self._uow.begin() as repos:
            return await repos.inbox.claim_awaiting(inbox_id, now=now, until=until)

    async def process_arrivals(
        self, repos: AnsweringRepositories, arrivals: Sequence[InboundRow], *, locked: bool = False
    ) -> Answered:
        """Process texts just written to the inbox in ``conn``'s transaction.

        Runs inside the group commit, so the replies are durable in the outbox when
        the webhook is answered.  Arrivals not processed here (attachments, a
        conversation still locked elsewhere after the batch's bounded wait for it,
        with an older text waiting, or from a number another service's user index
        has yet to look up) are left to the background loop, which
        :meth:`committed` wakes.  Never raises: a failure rolls back to a savepoint,
        so the inbox rows still commit and the loop answers them.  ``locked``: the
        transaction already holds the locks of all the arrivals' conversations.
        """
        now = self._clock.now()
        keys = sorted({_key(a) for a in arrivals})
        try:
            async with repos.savepoint():
                ours = set(keys) if locked else await repos.conversations.try_lock(keys)
                phones = sorted({a.from_phone for a in arrivals if _key(a) in ours})
                new = {a.message_sid: a for a in arrivals}
                # The new texts as they were written; the others only say who waits.
                queued = [
                    new.get(r.message_sid, r)
                    for r in await repos.inbox.waiting_from(phones)
                    if _key(r) in ours
                ]
                wanted = set(new) if self._profiles is None else self._settled(arrivals)
                rows = ready_in_order(queued, wanted)
                batch = await self._converse_rows(repos, rows, now, {})
        except Exception:
            log.exception("answering %d new texts failed; the inbox loop will", len(arrivals))
            return Answered(frozenset(), deferred=True)
        deferred = len(rows) < len(arrivals) or batch.waiting
        return Answered(frozenset(batch.touched), deferred=deferred)

    def _settled(self, arrivals: Sequence[InboundRow]) -> set[str]:
        """The arrivals whose texter another service's user index knows without a call.

        A number it cannot answer for yet (never read, or one not looked for lately)
        would be answered as a guest, a profile added a moment ago included: such a
        text is left to the inbox loop, which looks it up outside any transaction.
        """
        assert self._profiles is not None
        settled = self._profiles.settled
        return {
            a.message_sid for a in arrivals if settled(a.from_phone) or not can_answer(a.from_phone)
        }

    def committed(self, answered: Answered) -> None:
        """The group commit holding :meth:`process_arrivals`' work has committed."""
        if answered.conversations:
            self._on_enqueued()
            self._on_processed(answered.conversations)
        if answered.deferred:
            self._on_deferred()  # only now can the loop see the rows it is to answer

    async def _process(self, candidates: Sequence[InboundRow], ran: dict[int, _Ran]) -> _Batch:
        """Process what is not locked elsewhere; what the batch wrote."""
        now = self._clock.now()
        async with self._uow.begin() as repos:
            locked = await repos.conversations.try_lock(sorted({_key(r) for r in candidates}))
            ids = [r.id for r in candidates if _key(r) in locked]
            rows = await repos.inbox.pending_for(ids) if ids else []
            return await self._converse_rows(repos, _not_overtaking(rows, ran), now, ran)

    async def _converse_rows(
        self,
        repos: AnsweringRepositories,
        rows: Sequence[InboundRow],
        now: datetime,
        ran: dict[int, _Ran],
    ) -> _Batch:
        """Each row through the converser, in order; everything written in ``conn``.

        The batch is tried whole under one savepoint.  Should any text fail, that is
        rolled back and the batch is done again with a savepoint per text, so the
        failing text gets an apology and the others their answers: a savepoint per
        text costs two statements each, which is most of a batch's statements when
        nothing fails.
        """
        rows = await self._set_aside_unanswerable(repos, rows, now)
        if not rows:
            return _Batch(set(), waiting=False)
        try:
            async with repos.savepoint():
                return await self._converse_each(repos, rows, now, ran, guarded=False)
        except Exception:
            log.warning("a text in a batch of %d failed; one at a time now", len(rows))
        return await self._converse_each(repos, rows, now, ran, guarded=True)

    @staticmethod
    async def _set_aside_unanswerable(
        repos: AnsweringRepositories, rows: Sequence[InboundRow], now: datetime
    ) -> Sequence[InboundRow]:
        """Mark texts from senders that cannot be texted back as done, with the reason.

        They stay in the inbox, as everything a texter sent does, but start no
        conversation and draw no reply.
        """
        aside = [r for r in rows if not can_answer(r.from_phone)]
        if not aside:
            return rows
        for row in aside:
            log.warning("inbound %s from %r: %s", row.message_sid, row.from_phone, NOT_A_PHONE)
        await repos.inbox.mark_processed(
            [r.id for r in aside], now, {r.id: NOT_A_PHONE for r in aside}
        )
        return [r for r in rows if can_answer(r.from_phone)]

    async def _converse_each(
        self,
        repos: AnsweringRepositories,
        rows: Sequence[InboundRow],
        now: datetime,
        ran: dict[int, _Ran],
        *,
        guarded: bool,
    ) -> _Batch:
        phones = sorted({r.from_phone for r in rows})
        users = await repos.directory.profiles_by_phone(phones)
        convs = await repos.conversations.load_or_create(
            [(r.from_phone, r.to_phone) for r in rows],
            # A conversation names an account here; a profile elsewhere is not one.
            {p: u.user_id for p, u in users.items() if u.user_id is not None},
            now,
        )
        errors: dict[int, str] = {}
        done: list[int] = []
        # Conversations whose turn now waits on a remote effect: their later texts wait too.
        waits: dict[int, dict[str, Any] | None] = {}
        waiting: set[int] = set()
        # Transcript in the order things were said; bot lines get their outbox id later.
        timeline: list[TranscriptEntry | tuple[int, Reply]] = []
        for row in rows:
            conv = convs[(row.from_phone, row.to_phone)]
            if conv.id in waiting:
                continue
            texter = texter_of(row.from_phone, users.get(row.from_phone))
            resumed = ran.get(row.id) if row.awaiting is not None else None
            if resumed is None:  # a resumed text's own line was written when it came
                timeline.append(
                    TranscriptEntry(
                        conv.id,
                        "texter",
                        row.body,
                        tuple(str(m["key"]) for m in row.media if m.get("key")),
                        inbox_id=row.id,
                    )
                )
            turn = TextInContext(
                repos=repos,
                conversation_id=conv.id,
                texter=texter,
                number=row.to_phone,
                text=InboundText(
                    body=row.body,
                    media=tuple(
                        MediaRef(str(m["url"]), str(m.get("content_type", ""))) for m in row.media
                    ),
                    received_at=row.received_at,
                ),
                media=row.media,
                now=now,
            )
            if guarded:
                try:
                    async with repos.savepoint():
                        outcome = await self._turn(turn, conv, resumed)
                except Exception as exc:
                    log.exception("processing inbound %s failed", row.message_sid)
                    errors[row.id] = f"{type(exc).__name__}: {exc}"
                    outcome = ConverseOutcome(
                        state=conv.state, mode=conv.mode, replies=[Reply(APOLOGY)]
                    )
            else:
                outcome = await self._turn(turn, conv, resumed)
            conv.state, conv.mode = outcome.state, outcome.mode
            timeline.extend(TranscriptEntry(conv.id, "system", n) for n in outcome.notes)
            timeline.extend((conv.id, reply) for reply in outcome.replies)
            if outcome.awaiting is not None:
                waits[row.id] = outcome.awaiting.to_dict()
                waiting.add(conv.id)
            else:
                done.append(row.id)
                if resumed is not None:
                    waits[row.id] = None
        await self._write_replies(repos, timeline, convs, now)
        await repos.conversations.save(list(convs.values()), now)
        if waits:
            await repos.inbox.set_awaiting(waits)
        await repos.inbox.mark_processed(done, now, errors)
        went_on = frozenset(i for i in ran if i in waits or i in done)
        return _Batch({c.id for c in convs.values()}, waiting=bool(waiting), resumed=went_on)

    async def _turn(
        self, turn: TextInContext, conv: ConversationRow, resumed: _Ran | None
    ) -> ConverseOutcome:
        """A new text through the converser, or a waiting turn resumed with its result."""
        if resumed is None:
            return await self._converser.converse(turn, conv.state, conv.mode)
        assert self._resumer is not None  # only a resumer's turns wait
        return await self._resumer.resume(
            turn,
            conv.state,
            done=resumed.done,
            result=resumed.result,
            awaited=resumed.awaited,
            key=resumed.key,
        )

    @staticmethod
    async def _write_replies(
        repos: AnsweringRepositories,
        timeline: Sequence[TranscriptEntry | tuple[int, Reply]],
        convs: dict[tuple[str, str], ConversationRow],
        now: datetime,
    ) -> None:
        conv_by_id = {c.id: c for c in convs.values()}
        said = [item for item in timeline if isinstance(item, tuple)]
        messages = [
            NewMessage(
                to_phone=conv_by_id[cid].phone,
                from_phone=conv_by_id[cid].number,
                body=reply.body,
                media=reply.media,
                kind="reply",
                conversation_id=cid,
            )
            for cid, reply in said
        ]
        outbox_ids = iter(await repos.outbox.enqueue(messages, now))
        entries = [
            item
            if isinstance(item, TranscriptEntry)
            else TranscriptEntry(
                item[0], "bot", item[1].body, item[1].media, outbox_id=next(outbox_ids)
            )
            for item in timeline
        ]
        await repos.conversations.append(entries, now)
