"""textdesk with a stand-in converser, for ``--converser echo|silent``.

The benchmark normally serves textdesk exactly as shipped
(``textdesk.web.app:app_from_settings``, with its virtual agent).  These factories
build the same app with a trivial converser instead, to split the pipeline's cost
from the agent's:

* ``echo``: exactly one short reply per text and no other work, so the outbound
  half (outbox, dispatcher, REST call, status callbacks) runs at one send per text;
* ``silent``: no reply at all (textdesk's ``SilentConverser``), so only the inbound
  half runs: webhook, inbox, processing.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from textdesk.channel.answering import ConverseOutcome, Converser, SilentConverser, TextInContext
from textdesk.config import Settings
from textdesk.domain.agent.messages import Reply
from textdesk.web.app import create_app


class EchoConverser:
    """One reply per text; the state is left as it was."""

    async def converse(
        self, turn: TextInContext, state: dict[str, Any] | None, mode: str
    ) -> ConverseOutcome:
        return ConverseOutcome(
            state=state, mode=mode, replies=[Reply("Got it: " + turn.text.body[:40])]
        )


def _app(converser: Converser) -> FastAPI:
    # Mirrors app_from_settings, with the converser swapped.
    settings = Settings()
    return create_app(settings, background=settings.run_background, converser=converser)


def app_with_echo() -> FastAPI:
    """Factory for ``uvicorn --factory``: one reply per text."""
    return _app(EchoConverser())


def app_with_silence() -> FastAPI:
    """Factory for ``uvicorn --factory``: no replies."""
    return _app(SilentConverser())
