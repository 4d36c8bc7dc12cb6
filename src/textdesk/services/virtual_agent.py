"""The virtual agent as the channel's conversation logic: engine steps plus effects."""

from __future__ import annotations

from typing import Any

from textdesk.domain.conversation import ConversationState
from textdesk.domain.engine import Engine
from textdesk.domain.events import Reply
from textdesk.services.effects import EffectRunner
from textdesk.services.processing import Outcome, Turn

# A topic that asks for more effects than this for one text is looping.
MAX_EFFECTS = 20


class VirtualAgent:
    """Runs one inbound text through the engine, executing the effects it asks for."""

    def __init__(self, engine: Engine, effects: EffectRunner) -> None:
        self.engine = engine
        self._effects = effects

    async def converse(self, turn: Turn, state: dict[str, Any] | None, mode: str) -> Outcome:
        current = ConversationState.from_dict(state) if state else None
        step = self.engine.handle(current, turn.text, turn.texter, turn.now)
        replies: list[Reply] = list(step.replies)
        for _ in range(MAX_EFFECTS):
            if step.effect is None:
                break
            result = await self._effects.run(step.effect, turn)
            step = self.engine.resume(step.state, result, turn.texter, turn.now)
            replies.extend(step.replies)
        else:
            raise RuntimeError(f"more than {MAX_EFFECTS} effects for one text: a topic loops")
        return Outcome(state=step.state.to_dict(), mode=step.state.mode, replies=replies)
