"""The designer's phone pane: the editor's draft tried as a chosen texter.

The pane keeps the texts typed so far in the page and posts them all with the
editor's current text on each new one; ``topics/trial.py`` plays the conversation
again from the start through the real engine, with nothing sent and nothing
written, so the server holds no state for the pane and an edit is tried at once.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from textdesk.domain.phones import InvalidPhone, to_e164
from textdesk.topics.trial import MAX_TEXTS
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace.admins import ActingAdmin
from textdesk.web.workspace.render import refusal, render
from textdesk.web.workspace.topic_editor import MAX_SOURCE

router = APIRouter()


def _shown(value: Any) -> str:
    """A variable as the pane lists it: JSON, as a template would read it."""
    return json.dumps(value, ensure_ascii=False, default=str, indent=1)


@router.post("/{topic_id}/try")
async def try_it(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    phone: Annotated[str, Form(max_length=40)],
    source: Annotated[str, Form(max_length=MAX_SOURCE)] = "",
    texts: Annotated[list[str] | None, Form()] = None,
    text: Annotated[str, Form(max_length=1600)] = "",
) -> Response:
    """Every text so far, and the new one, played through the draft: replies, variables."""
    try:
        number = to_e164(phone)
    except InvalidPhone as exc:
        return refusal(str(exc), 422)
    sent = [*(texts or []), *([text] if text.strip() else [])][:MAX_TEXTS]
    run = await container.topic_trial.run(topic_id, source, number, sent)
    context = {
        "run": run,
        "phone": number,
        "shown": _shown,
        "full": len(sent) >= MAX_TEXTS,
        # Signed like the MMS Twilio fetches: a demo image, or one of a topic's.
        "media_url": container.signer.url_for,
    }
    return render(request, "workspace/_topic_trial.html", context, agent=agent)
