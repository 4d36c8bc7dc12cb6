"""The virtual agent as the channel's conversation logic: engine steps plus effects."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textdesk.channel.answering import ConverseOutcome, TextInContext
from textdesk.channel.effects import EffectRunner, settle
from textdesk.domain.agent.engine import Engine, Step
from textdesk.domain.agent.messages import EffectResult, Reply, Transfer
from textdesk.domain.agent.state import ConversationState
from textdesk.live_agents.handoff import LiveAgents
from textdesk.notifications.subscriptions import SubscriptionCommands
from textdesk.ports import Attachment, EffectScope, RecordStore

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
        engine: Engine,
        effects: EffectRunner,
        commands: SubscriptionCommands | None = None,
        *,
        records: Callable[[TextInContext], RecordStore],
        agents: LiveAgents,
    ) -> None:
        """``records``: the record store in the turn's transaction; ``agents``: the
        hand-off, asked for transfers and told of each text while one is open."""
        self.engine = engine
        self._effects = effects
        self._commands = commands
        self._records = records
        self._agents = agents

    def _scope(self, turn: TextInContext) -> EffectScope:
        """The effect ports of ``turn``: its transaction, and its media fetched before it."""
        return EffectScope(
            texter=turn.texter,
            now=turn.now,
            records=self._records(turn),
            media=_Prefetched(tuple(_attachment(m) for m in turn.media)),
            agents=_TurnTransfers(self._agents.request, turn),
        )

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
        with_agent = self.engine.routes_to_agent(current)
        try:
            step, replies = await self._run(
                self.engine.handle(current, turn.text, turn.texter, turn.now), turn
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
        return ConverseOutcome(state=step.state.to_dict(), mode=step.state.mode, replies=replies)

    async def _run(self, step: Step, turn: TextInContext) -> tuple[Step, list[Reply]]:
        if step.effect is None:  # most texts: no effect, so no ports to bind
            _log_problems(step, turn)
            return step, list(step.replies)
        settled = await settle(
            self.engine,
            step,
            self._effects,
            self._scope(turn),
            on_step=lambda each: _log_problems(each, turn),
        )
        return settled, list(settled.replies)

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


@dataclass(frozen=True)
class _TurnTransfers:
    """The hand-off, asked on behalf of one turn (its conversation, its transaction)."""

    agents: Callable[[TextInContext, Transfer], Awaitable[EffectResult]]
    turn: TextInContext

    async def request(self, transfer: Transfer) -> EffectResult:
        return await self.agents(self.turn, transfer)
