"""One conversation in the Agent Workspace: the page, its live part, the agent's actions.

Every route first checks that the agent may see the conversation (their queues; an
admin sees all) and answers 404 otherwise, the same as for an id that does not
exist.  Actions run the back end's ``Desk`` in one transaction, then publish an
event so other tabs, agents and processes update.

A refused action changes nothing and answers, whatever the action:

- 403 when the chat is not the agent's (a colleague has it or is being offered it, or
  it was handed to a queue they are not in): its agent or an admin could act;
- 409 when, as the conversation stands, nobody could (no open chat, not accepted
  yet, already yours): reloading shows why;
- 422 when what was sent is unusable (an empty text, not an image, no such record).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from textdesk.bootstrap import Container
from textdesk.live_agents import conversation_list
from textdesk.live_agents.desk import Conflict, DeskError, Hidden, Invalid, NotYours
from textdesk.live_agents.workspace_updates import AgentChange
from textdesk.ports import AgentRow, CheckedImage
from textdesk.web.auth import ActingAgent, ApiAgent, PageAgent
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace.render import refusal, render, wake

router = APIRouter(prefix="/conversations")
NOT_FOUND = "no such conversation"
_REFUSED: dict[type[DeskError], int] = {Hidden: 404, NotYours: 403, Conflict: 409, Invalid: 422}


@router.get("")
async def listing(
    request: Request,
    container: ContainerDep,
    agent: PageAgent,
    q: str = "",
    state: str = "",
    page: int = 1,
) -> Response:
    """Every conversation the agent may see, newest first: filter by state, search."""
    chosen = state if state in conversation_list.STATES else None
    found, box = await container.workspace.listing(agent, state=chosen, search=q[:200], page=page)

    def pager(number: int) -> str:
        return urlencode({"q": q, "state": chosen or "", "page": number})

    context: dict[str, Any] = {
        "listing": found,
        "states": conversation_list.STATES,
        "state": chosen,
        "q": q,
        "pager": pager,
        "inbox": box,
        "current": None,
    }
    return render(request, "workspace/conversations.html", context, agent=agent)


@router.get("/{cid}")
async def page(request: Request, container: ContainerDep, agent: PageAgent, cid: int) -> Response:
    """The whole conversation, the texter's profile and records, and the composer."""
    screen = await container.workspace.conversation(agent, cid)
    if screen.view is None or screen.targets is None:
        missing: dict[str, Any] = {"inbox": screen.inbox, "current": None}
        return render(request, "workspace/not_found.html", missing, agent=agent, status_code=404)
    context: dict[str, Any] = {
        "view": screen.view,
        "inbox": screen.inbox,
        "current": cid,
        "queues": screen.targets.queues,
        "colleagues": screen.targets.colleagues,
    }
    return render(request, "workspace/conversation.html", context, agent=agent)


async def _live(request: Request, container: Container, agent: AgentRow, cid: int) -> Response:
    found = await container.workspace.live(agent, cid)
    if found is None:
        return refusal(NOT_FOUND, 404)
    view, targets = found
    context = {"view": view, "queues": targets.queues, "colleagues": targets.colleagues}
    return render(request, "workspace/_live.html", context, agent=agent)


@router.get("/{cid}/transfer-targets")
async def transfer_targets(
    request: Request, container: ContainerDep, agent: ApiAgent, cid: int
) -> Response:
    """The transfer list as it stands now (the page's copy is as old as the page)."""
    targets = await container.workspace.targets(agent, cid)
    if targets is None:
        return refusal(NOT_FOUND, 404)
    context = {"queues": targets.queues, "colleagues": targets.colleagues}
    return render(request, "workspace/_transfer_targets.html", context, agent=agent)


@router.get("/{cid}/live")
async def live(request: Request, container: ContainerDep, agent: ApiAgent, cid: int) -> Response:
    """The transcript, with the header and side panel swapped out-of-band."""
    return await _live(request, container, agent, cid)


async def _perform(
    container: Container, agent: AgentRow, cid: int, action: Awaitable[None], change: AgentChange
) -> Response | None:
    """Run one desk action (its own transaction); a refusal as a response, None when done."""
    try:
        await action
    except DeskError as exc:
        return refusal(str(exc), _REFUSED.get(type(exc), 409))
    await container.updates.agent_acted(change, cid, agent.id)
    wake(container, "dispatcher", "assigner")  # send now rather than on the next poll
    return None


def _go(url: str) -> Response:
    """After an action that changes the page's shape, htmx loads ``url``."""
    return Response(status_code=200, headers={"HX-Redirect": url, "Cache-Control": "no-store"})


@router.post("/{cid}/accept")
async def accept(container: ContainerDep, agent: ActingAgent, cid: int) -> Response:
    """Take the chat (offered to this agent, or picked from the queue)."""
    done = await _perform(container, agent, cid, container.desk.accept(agent, cid), "queue")
    return done or _go(f"/workspace/conversations/{cid}")


@router.post("/{cid}/reply")
async def reply(
    request: Request,
    container: ContainerDep,
    agent: ActingAgent,
    cid: int,
    body: Annotated[str, Form()] = "",
) -> Response:
    """Send a text."""
    action = container.desk.reply_text(agent, cid, body)
    done = await _perform(container, agent, cid, action, "conversation")
    return done or await _live(request, container, agent, cid)


@router.post("/{cid}/card")
async def card(
    request: Request,
    container: ContainerDep,
    agent: ActingAgent,
    cid: int,
    number: Annotated[str, Form()] = "",
) -> Response:
    """Send one of the texter's records as a card (compact fields and a link)."""
    if not number:
        return refusal("pick one of the texter's records", 422)
    action = container.desk.reply_card(agent, cid, number)
    done = await _perform(container, agent, cid, action, "conversation")
    return done or await _live(request, container, agent, cid)


@router.post("/{cid}/comment")
async def comment(
    request: Request,
    container: ContainerDep,
    agent: ActingAgent,
    cid: int,
    number: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = "comment",
) -> Response:
    """Add a comment (the texter's record shows it) or a work note to one of their records."""
    if not number:
        return refusal("pick one of the texter's records", 422)
    if visibility not in ("comment", "work_note"):
        return refusal("a comment is either a comment or a work note", 422)
    action = container.desk.comment_on_record(
        agent, cid, number, body, public=visibility == "comment"
    )
    done = await _perform(container, agent, cid, action, "conversation")
    return done or await _live(request, container, agent, cid)


@router.post("/{cid}/image")
async def image(
    request: Request,
    container: ContainerDep,
    agent: ActingAgent,
    cid: int,
    file: Annotated[UploadFile | None, File()] = None,
    caption: Annotated[str, Form()] = "",
) -> Response:
    """Send an image by MMS; anything that is not an image (by its bytes) is refused."""
    if file is None or not file.filename:
        return refusal("choose an image to send", 422)
    # One byte over the cap is enough for the desk to refuse it by size.
    data = await file.read(container.settings.media_max_bytes + 1)
    desk = container.desk
    # Decoded here, outside the transaction; a refusal is the desk's to raise in turn.
    image: CheckedImage | Invalid
    try:
        image = await desk.decode_upload(data)
    except Invalid as exc:
        image = exc
    action = desk.reply_image(agent, cid, data, image, caption)
    done = await _perform(container, agent, cid, action, "conversation")
    return done or await _live(request, container, agent, cid)


@router.post("/{cid}/transfer")
async def transfer(
    container: ContainerDep,
    agent: ActingAgent,
    cid: int,
    target: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Hand the chat to another queue (back in line) or offer it to a colleague."""
    kind, _, raw = target.partition(":")
    if kind not in ("queue", "agent") or not raw.isdigit():
        return refusal("choose a queue or an agent to transfer to", 422)
    queue_id = int(raw) if kind == "queue" else None
    to_agent = int(raw) if kind == "agent" else None
    action = container.desk.transfer(agent, cid, queue_id=queue_id, to_agent_id=to_agent, note=note)
    done = await _perform(container, agent, cid, action, "queue")
    return done or _go("/workspace")


@router.post("/{cid}/end")
async def end(container: ContainerDep, agent: ActingAgent, cid: int) -> Response:
    """End the chat: the texter gets the closing text and is back with the bot."""
    done = await _perform(container, agent, cid, container.desk.end(agent, cid), "ended")
    return done or _go(f"/workspace/conversations/{cid}")
