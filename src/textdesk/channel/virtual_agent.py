"""The virtual agent as the channel's conversation logic: engine steps plus effects."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from textdesk.channel.answering import ConverseOutcome, TextInContext
from textdesk.channel.effects import EffectRunner, never, new_record_of, settle
from textdesk.domain.agent.awaiting import (
    RECORD_EFFECTS,
    UNAVAILABLE,
    Awaiting,
    kept_for_later,
)
from textdesk.domain.agent.engine import Engine, Step
from textdesk.domain.agent.messages import (
    CreateRecord,
    Effect,
    EffectResult,
    Reply,
    Texter,
    Transfer,
)
from textdesk.domain.agent.state import ConversationState
from textdesk.domain.records import InvalidRecord
from textdesk.live_agents.handoff import LiveAgents
from textdesk.metrics import RECORD_BACKLOG
from textdesk.notifications.subscriptions import SubscriptionCommands
from textdesk.ports import Attachment, EffectScope, Engines, PendingRecord, RecordStore

log = logging.getLogger(__name__)

ERROR_TRANSFER = "Sorry, something went wrong on our side. I'm passing you to a person."


def _log_problems(step: Step, turn: TextInContext) -> None:
    """What went wrong in the topics themselves is the operator's to fix: an error."""
    for problem in step.problems:
        log.error("conversation %s: %s", turn.conversation_id, problem)


class VirtualAgent:
    """Runs one inbound text through the engine, executing the effects it asks for."""

    def __init__(
        self,
        engines: Engines,
        effects: EffectRunner,
        commands: SubscriptionCommands | None = None,
        *,
        records: Callable[[TextInContext], RecordStore],
        agents: LiveAgents,
        remote_records: RecordStore | None = None,
    ) -> None:
        """``records``: the record store in the turn's transaction; ``agents``: the
        hand-off, asked for transfers and told of each text while one is open;
        ``remote_records``: a record store in another service, used instead of
        ``records`` and only ever called outside a transaction."""
        self._engines = engines
        self._effects = effects
        self._commands = commands
        self._records = records
        self._remote = remote_records
        self._agents = agents

    def _scope(self, turn: TextInContext) -> EffectScope:
        """The effect ports of ``turn``: its transaction, and its media fetched before it."""
        return EffectScope(
            texter=turn.texter,
            now=turn.now,
            records=self._remote or self._records(turn),
            media=_Prefetched(tuple(_attachment(m) for m in turn.media)),
            agents=_TurnTransfers(self._agents.request, turn),
        )

    def _stop_before(self, scope: EffectScope) -> Callable[[Effect], bool]:
        """Which effects the turn's transaction must not wait for: a remote store's."""
        if not scope.records.remote:
            return never
        return lambda effect: isinstance(effect, RECORD_EFFECTS)

    async def converse(
        self, turn: TextInContext, state: dict[str, Any] | None, mode: str
    ) -> ConverseOutcome:
        # Subscription commands (Notification, START, STOP) come first, in every mode,
        # and leave the state alone so a command mid-topic does not lose the topic.
        if self._commands is not None:
            handled = await self._commands.handle(turn, state, mode)
            if handled is not None:
                return ConverseOutcome(state, mode, replies=handled.replies, notes=handled.notes)
        current = ConversationState.from_dict(state) if state else None
        # The published topics, or the versions this conversation is in the middle of.
        engine = await self._engines.engine_for(state)
        with_agent = engine.routes_to_agent(current)
        try:
            step, awaiting = await self._run(
                engine, engine.handle(current, turn.text, turn.texter, turn.now), turn
            )
        except Exception:
            if with_agent:
                raise
            log.exception("the virtual agent failed on a text; offering a person")
            return await self._rescue(turn, current, mode)
        if with_agent:
            if step.state.mode == "bot":
                await self._agents.texter_left(turn)
            else:
                await self._agents.texter_spoke(turn)
        return ConverseOutcome(
            state=step.state.to_dict(),
            mode=step.state.mode,
            replies=list(step.replies),
            awaiting=awaiting,
        )

    async def _run(
        self, engine: Engine, step: Step, turn: TextInContext, *, done: int = 0
    ) -> tuple[Step, Awaiting | None]:
        """The turn's effects run; the step it rests at, or the remote one it waits on."""
        if step.effect is None:  # most texts: no effect, so no ports to bind
            _log_problems(step, turn)
            return step, None
        scope = self._scope(turn)
        settled = await settle(
            engine,
            step,
            self._effects,
            scope,
            on_step=lambda each: _log_problems(each, turn),
            stop_before=self._stop_before(scope),
            done=done,
        )
        effect = settled.step.effect
        return settled.step, (Awaiting(effect, settled.effects + 1) if effect else None)

    async def run_awaiting(
        self, awaiting: Awaiting, *, texter: Texter, now: datetime, key: str
    ) -> EffectResult:
        """Carry out a remote effect a turn stopped before, with no transaction open."""
        if self._remote is None:
            raise RuntimeError("a turn waits on a remote record store, but none is configured")
        scope = EffectScope(
            texter=texter,
            now=now,
            records=self._remote,
            media=_Prefetched(()),  # never asked: only record effects wait
            agents=_NoTransfers(),
            key=key,
        )
        return await self._effects.run(awaiting.effect, scope)

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
        """Go on with a turn that waited on a remote effect, now that ``result`` is in.

        A new record the store never answered for is kept, in this transaction, to
        be made once it is back (``records/backlog.py``): the texter is told so.
        """
        engine = await self._engines.engine_for(state)
        if (
            result.error == UNAVAILABLE
            and awaited is not None
            and key is not None
            and isinstance(awaited.effect, CreateRecord)
            and await self._keep(turn, awaited.effect, key, engine)
        ):
            result = kept_for_later()
        current = ConversationState.from_dict(state) if state else ConversationState()
        step = engine.resume(current, result, turn.texter, turn.now)
        step, again = await self._run(engine, step, turn, done=done)
        return ConverseOutcome(
            state=step.state.to_dict(),
            mode=step.state.mode,
            replies=list(step.replies),
            awaiting=again,
        )

    async def _keep(
        self, turn: TextInContext, effect: CreateRecord, key: str, engine: Engine
    ) -> bool:
        """Keep the record ``effect`` opens in the backlog; False if it cannot be opened."""
        try:
            record = new_record_of(effect, turn.texter, key)
        except InvalidRecord:
            return False  # it would be refused when the store is back as well
        await turn.repos.backlog.keep(
            PendingRecord(
                key=key,
                record=record,
                phone=turn.texter.phone,
                number=turn.number,
                conversation_id=turn.conversation_id,
                message=engine.settings.texts.record_logged,
            ),
            turn.now,
        )
        RECORD_BACKLOG.labels("kept").inc()
        log.warning("the record system is down: report %s is kept to be made later", key)
        return True

    async def _rescue(
        self, turn: TextInContext, current: ConversationState | None, mode: str
    ) -> ConverseOutcome:
        """An engine error: hand the texter to a person if one is there, else re-raise."""
        result = await self._effects.run(Transfer(reason="error"), self._scope(turn))
        value = result.value if isinstance(result.value, dict) else {}
        if value.get("status") != "queued":
            raise RuntimeError("the virtual agent failed and no agent is available")
        rescued = current.copy() if current else ConversationState(greeted=True)
        rescued.clear_topic()
        rescued.mode = "queued"
        rescued.last_activity = turn.now
        return ConverseOutcome(
            state=rescued.to_dict(), mode="queued", replies=[Reply(ERROR_TRANSFER)]
        )


def _attachment(entry: dict[str, Any]) -> Attachment:
    """An inbox row's media entry, as processing's prefetch left it (key or error)."""
    key, error = entry.get("key"), entry.get("error")
    return Attachment(
        str(entry.get("content_type", "")),
        key=str(key) if key else None,
        error=str(error) if error else None,
    )


@dataclass(frozen=True)
class _Prefetched:
    """The turn's attachments: downloaded and checked before its transaction began."""

    attachments: tuple[Attachment, ...]

    async def fetch(self) -> tuple[Attachment, ...]:
        return self.attachments


class _NoTransfers:
    """The hand-off of a turn run outside its transaction: never asked (see run_awaiting)."""

    async def request(self, transfer: Transfer) -> EffectResult:
        raise RuntimeError("a transfer never waits on a remote service")


@dataclass(frozen=True)
class _TurnTransfers:
    """The hand-off, asked on behalf of one turn (its conversation, its transaction)."""

    agents: Callable[[TextInContext, Transfer], Awaitable[EffectResult]]
    turn: TextInContext

    async def request(self, transfer: Transfer) -> EffectResult:
        return await self.agents(self.turn, transfer)
