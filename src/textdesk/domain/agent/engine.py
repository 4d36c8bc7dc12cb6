"""The virtual agent: from (state, inbound text) to (state, replies, effect).

Pure: no I/O, no clock (``now`` is passed in), no randomness.  When the agent needs
the outside world (records, media, a live agent) it returns a ``Step`` with an
``effect`` and stops; the caller runs the effect and calls ``resume``::

    step = engine.handle(state, inbound, texter, now)
    while step.effect:
        step = engine.resume(step.state, await run(step.effect), texter, now)

collecting ``replies`` from every step in order (``channel.effects.settle`` does
that for the desk and ``topics test``; ``run_to_rest`` for a synchronous runner).

Outside topics, a text is read in this order: global commands (whole message), a
reply to the menu just shown, keyword/fuzzy discovery, then the fallback topic.
Inside a topic, global commands still come first; anything else answers the
waiting question.  While a live agent has the conversation (``routes_to_agent``)
the engine stays silent except for ``bye``.

Choices made here:

- The ``max_retries``-th bad answer in a row is not asked again: the texter is
  *offered* AGENT or MENU and the topic is left (no automatic transfer); AGENT then
  transfers with reason ``failures``.  MORE and "Did you mean" don't count.
- A never-greeted state (or ``None``) gets the greeting topic, then the first text is
  looked at again (so "my printer is broken" goes straight into a topic); an idle
  one (``idle_close``, bot mode only) restarts with "Welcome back!" instead.
- After the greeting or fallback topic the menu follows; after any other topic that
  ended without a message, "Anything else? Reply MENU for options.".
- Guests don't see account-only topics in the menu; asking for one by name gets
  ``texts.needs_account``.
- ``vars`` are kept after a topic ends (a live agent reads them) and cleared when
  the texter starts the next topic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from textdesk.domain.agent import answers, flow
from textdesk.domain.agent.discovery import rank_topics
from textdesk.domain.agent.flow import Finished, TopicOutcome
from textdesk.domain.agent.messages import Effect, EffectResult, InboundText, Texter, Transfer
from textdesk.domain.agent.state import ConversationState
from textdesk.domain.agent.texter_replies import (
    Option,
    normalize_command,
    parse_choice,
    render_choices,
)
from textdesk.domain.agent.turn import Step, Turn
from textdesk.domain.topics.schema import Topic, TopicSet

__all__ = ["MAX_EFFECTS", "Command", "Engine", "Step", "run_to_rest"]

Command = Literal["menu", "help", "agent", "bye"]
# Effects per inbound text; more means a topic loops through effects.  The desk,
# ``topics test`` and the engine's own tests stop at the same point.
MAX_EFFECTS = 20

RANK_CACHE_SIZE = 4096
RANK_CACHE_TEXT = 40  # characters


class Engine:
    """The virtual agent for one topic set."""

    def __init__(
        self,
        topics: TopicSet,
        *,
        max_retries: int = 3,
        idle_close: timedelta = timedelta(hours=2),
        page_size: int = 9,
    ) -> None:
        self.topics = topics
        self.settings = topics.settings
        self.max_retries = max_retries
        self.idle_close = idle_close
        self.page_size = page_size
        # Fuzzy ranking is the costliest pure step, and people send the same few
        # short texts ("hi", "help me", "password") over and over; the topics never
        # change.  Longer texts are personal and rarely repeat: they are not kept.
        self._ranked: dict[tuple[str, bool], list[Topic]] = {}
        words = self.settings.commands
        self._commands: dict[str, Command] = {}
        listed: tuple[tuple[Command, list[str]], ...] = (
            ("bye", words.bye),
            ("agent", words.agent),
            ("help", words.help),
            ("menu", words.menu),
        )
        for command, commands in listed:
            for word in commands:
                self._commands.setdefault(normalize_command(word), command)

    # --- queries for the services layer -------------------------------------------

    def routes_to_agent(self, state: ConversationState | None) -> bool:
        """Whether texts belong to a live agent (queued or connected), not the bot."""
        return state is not None and state.mode in ("agent", "queued")

    def is_expired(self, state: ConversationState, now: datetime) -> bool:
        """Whether a bot conversation has been idle long enough to start afresh."""
        return (
            state.mode == "bot"
            and state.last_activity is not None
            and now - state.last_activity >= self.idle_close
        )

    def command(self, body: str) -> Command | None:
        """The global command a whole message is, if any."""
        return self._commands.get(normalize_command(body))

    # --- entry points -------------------------------------------------------------

    def handle(
        self, state: ConversationState | None, text: InboundText, texter: Texter, now: datetime
    ) -> Step:
        """React to one inbound text."""
        body = text.body
        if state is not None and self.routes_to_agent(state):
            turn = self._turn(state.copy(), texter, now)
            if self.command(body) == "bye":
                with turn.bounded():
                    self._bye(turn)
            return turn.step()
        if state is None or not state.greeted or self.is_expired(state, now):
            returning = state is not None and state.greeted
            turn = self._turn(ConversationState(greeted=True), texter, now)
            with turn.bounded():
                if returning:
                    turn.say(turn.text(self.settings.texts.welcome_back))
                    self._settle(turn, self._discover(turn, body, after_greeting=True))
                else:
                    self._settle(turn, self._greet(turn, body))
            return turn.step()
        turn = self._turn(state.copy(), texter, now)
        # A pending effect whose result never came (a crash between the two): forget
        # it; the node runs again when the texter's text reaches it.
        turn.state.pending = None
        turn.state.transfer_reason = None
        command = self.command(body)
        with turn.bounded():
            if command is not None:
                self._settle(turn, self._command(turn, command))
            elif turn.state.topic_id is not None:
                self._settle(turn, answers.answer(turn, text))
            else:
                self._settle(turn, self._discover(turn, body))
        return turn.step()

    def resume(
        self, state: ConversationState, result: EffectResult, texter: Texter, now: datetime
    ) -> Step:
        """Carry on with the result of the effect the last step asked for."""
        turn = self._turn(state.copy(), texter, now)
        kind = turn.state.pending
        turn.state.pending = None
        with turn.bounded():
            if kind == "transfer":
                answers.transfer_result(turn, result)
            elif kind is not None:
                self._settle(turn, answers.resume_effect(turn, kind, result))
        return turn.step()

    def agent_joined(self, state: ConversationState, now: datetime) -> ConversationState:
        """The state once a live agent accepted the conversation."""
        joined = state.copy()
        joined.mode = "agent"
        joined.last_activity = now
        return joined

    def agent_left(self, state: ConversationState, texter: Texter, now: datetime) -> Step:
        """The agent ended the chat: the texter is back with the bot, told so."""
        turn = self._turn(state.copy(), texter, now)
        turn.state.mode = "bot"
        turn.state.clear_topic()
        with turn.bounded():
            turn.say(turn.text(self.settings.texts.back_to_bot))
        return turn.step()

    # --- discovery and menu -------------------------------------------------------

    def _turn(self, state: ConversationState, texter: Texter, now: datetime) -> Turn:
        return Turn(
            self.topics,
            state,
            texter,
            now,
            page_size=self.page_size,
            max_retries=self.max_retries,
        )

    def _settle(self, turn: Turn, outcome: TopicOutcome) -> None:
        while outcome is not None:
            outcome = self._after_topic(turn, outcome)

    def _greet(self, turn: Turn, body: str) -> TopicOutcome:
        greeting = self.settings.greeting_topic
        if self.topics.get(greeting) is None or greeting is None:
            return self._discover(turn, body, after_greeting=True)
        turn.state.deferred_text = body
        return flow.start_topic(turn, greeting)

    def _after_topic(self, turn: Turn, finished: Finished) -> TopicOutcome:
        state = turn.state
        if finished.topic_id == self.settings.greeting_topic and state.deferred_text is not None:
            body, state.deferred_text = state.deferred_text, None
            return self._discover(turn, body, after_greeting=True)
        if finished.menu or finished.topic_id in (
            self.settings.greeting_topic,
            self.settings.fallback_topic,
        ):
            self._show_menu(turn)
        elif not finished.said:
            turn.say(turn.text(self.settings.texts.anything_else))
        return None

    def _rank(self, body: str, *, after_greeting: bool) -> list[Topic]:
        """The topics ``body`` may be about (see ``rank_topics``), remembered per text."""
        key = (body, after_greeting)
        found = self._ranked.get(key)
        if found is None:
            skip = {self.settings.fallback_topic}
            if after_greeting:
                skip.add(self.settings.greeting_topic)
            found = rank_topics(
                body,
                [t for t in self.topics.topics if t.id not in skip],
                threshold=self.settings.match_threshold,
                margin=self.settings.match_margin,
            )
            if len(body) <= RANK_CACHE_TEXT:
                if len(self._ranked) >= RANK_CACHE_SIZE:
                    self._ranked.clear()
                self._ranked[key] = found
        return list(found)

    def _discover(self, turn: Turn, body: str, *, after_greeting: bool = False) -> TopicOutcome:
        """Find what a text outside any topic is about and start it."""
        command = self.command(body)
        if command is not None:
            return self._command(turn, command)
        state, settings = turn.state, self.settings
        if state.menu:
            options = [
                Option(t.id, t.title) for t in map(self.topics.get, state.menu) if t is not None
            ]
            match = parse_choice(body, options, state.page, self.page_size, settings.more_word)
            if match.matched is not None:
                return self._start(turn, match.matched.value)
            if match.more:
                self._show_menu(turn, page=match.next_page)
                return None
            if match.ambiguous:
                self._offer(turn, [o.value for o in match.ambiguous])
                return None
        found = self._rank(body, after_greeting=after_greeting)
        if len(found) == 1:
            return self._start(turn, found[0].id)
        if found:
            self._offer(turn, [t.id for t in found])
            return None
        fallback = settings.fallback_topic
        if after_greeting or fallback is None or self.topics.get(fallback) is None:
            self._show_menu(turn)
            return None
        state.menu = None
        return flow.start_topic(turn, fallback)

    def _start(self, turn: Turn, topic_id: str) -> TopicOutcome:
        """Start a topic the texter chose; guests can't start account-only topics."""
        state = turn.state
        topic = self.topics.get(topic_id)
        if topic is None:
            return None
        if topic.requires_account and turn.texter.is_guest:
            turn.say(turn.text(self.settings.texts.needs_account))
            state.menu = None
            return None
        state.clear_topic()
        state.vars = {}
        state.offered_agent = False
        return flow.start_topic(turn, topic_id)

    def _show_menu(self, turn: Turn, page: int = 0) -> None:
        topics = self.topics.menu_topics(guest=turn.texter.is_guest)
        if not topics:
            turn.say(turn.text(self.settings.help_text))
            return
        options = [Option(t.id, t.title) for t in topics]
        turn.state.menu = [t.id for t in topics]
        turn.state.page = page
        prompt = turn.text(self.settings.texts.menu_prompt)
        menu = render_choices(prompt, options, page, self.page_size, self.settings.more_word)
        turn.say(menu, "prompt")

    def _offer(self, turn: Turn, topic_ids: list[str]) -> None:
        """Ask "Did you mean" with a short menu of the close topics."""
        topics = [t for t in map(self.topics.get, topic_ids) if t is not None]
        turn.state.menu = [t.id for t in topics]
        turn.state.page = 0
        options = [Option(t.id, t.title) for t in topics]
        prompt = turn.text(self.settings.texts.did_you_mean)
        turn.say(render_choices(prompt, options, 0, max(1, len(options))), "prompt")

    # --- commands and live agents -------------------------------------------------

    def _command(self, turn: Turn, command: Command) -> TopicOutcome:
        state = turn.state
        if command == "menu":
            state.clear_topic()
            state.deferred_text = None
            self._show_menu(turn)
        elif command == "help":
            turn.say(turn.text(self.settings.help_text))
            return answers.reask(turn)
        elif command == "agent":
            reason = "failures" if state.offered_agent else "asked"
            state.transfer_reason = reason
            turn.request(Transfer(reason=reason), "transfer")
        else:
            self._bye(turn)
        return None

    def _bye(self, turn: Turn) -> None:
        turn.say(turn.text(self.settings.texts.closing))
        turn.state = ConversationState(greeted=True)
        turn.ended = True


def run_to_rest(
    engine: Engine,
    step: Step,
    runner: Callable[[Effect], EffectResult],
    texter: Texter,
    now: datetime,
) -> Step:
    """Run every effect of ``step`` with a synchronous ``runner``; one combined Step.

    The result has all replies and problems in order, no effect, and ``ended`` if
    any step ended.
    """
    replies = list(step.replies)
    problems = list(step.problems)
    ended = step.ended
    for _ in range(MAX_EFFECTS):
        if step.effect is None:
            return Step(step.state, tuple(replies), None, ended, tuple(problems))
        step = engine.resume(step.state, runner(step.effect), texter, now)
        replies.extend(step.replies)
        problems.extend(step.problems)
        ended = ended or step.ended
    raise RuntimeError(f"more than {MAX_EFFECTS} effects for one text: a topic loops")
