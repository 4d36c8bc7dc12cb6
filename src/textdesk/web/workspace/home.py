"""The Agent Workspace: sign-in, the inbox and presence.

One conversation's page and actions are in ``conversation.py``, the live
event stream in ``events.py``; this module's ``router`` includes both.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from textdesk.admin.agents import AgentError, TooManySignIns
from textdesk.domain.sms import gsm_safe, sms_cost, ucs2_culprits
from textdesk.web.auth import (
    ActingAgent,
    ApiAgent,
    PageAgent,
    check_csrf,
    end_session,
    safe_next,
    start_session,
)
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace import conversation, events, outbound, subscription, topics
from textdesk.web.workspace.render import refusal, render, wake

router = APIRouter(prefix="/workspace", include_in_schema=False)
router.include_router(conversation.router)
router.include_router(subscription.router)
router.include_router(events.router)
router.include_router(outbound.router)
router.include_router(topics.router)


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return render(request, "workspace/login.html", {"next": safe_next(next), "error": None})


@router.post("/login", dependencies=[Depends(check_csrf)])
async def login(
    request: Request,
    container: ContainerDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/workspace",
) -> Response:
    """Check the password (throttled: see ``domain/sign_in_throttle.py``) and start a session."""
    # The peer, or the client a trusted proxy forwarded for (``web/forwarded.py``).
    address = request.client.host if request.client else "unknown"
    context = {"next": safe_next(next), "email": email}
    try:
        agent = await container.authenticator.sign_in(email, password, address)
    except TooManySignIns as refused:
        error = f"Too many failed sign-ins. Try again in {_in_words(refused.wait)}."
        return render(
            request,
            "workspace/login.html",
            {**context, "error": error},
            status_code=429,
            headers={"Retry-After": str(math.ceil(refused.wait))},
        )
    if agent is None:
        error = "Wrong email or password."
        return render(request, "workspace/login.html", {**context, "error": error}, status_code=401)
    start_session(request, agent)
    return RedirectResponse(safe_next(next), status_code=303)


def _in_words(seconds: float) -> str:
    whole = math.ceil(seconds)
    if whole < 90:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    return f"{minutes} minutes"


@router.post("/logout")
async def logout(request: Request, container: ContainerDep, agent: ActingAgent) -> Response:
    """Sign out; an agent who left is offered no more chats."""
    await container.admin.agents.sign_out(agent_id=agent.id)
    end_session(request)
    return RedirectResponse("/workspace/login", status_code=303)


@router.get("")
async def inbox_page(request: Request, container: ContainerDep, agent: PageAgent) -> Response:
    """The inbox: texters waiting in the agent's queues, and the agent's own chats."""
    box = await container.workspace.inbox(agent)
    return render(request, "workspace/inbox.html", {"inbox": box, "current": None}, agent=agent)


@router.get("/inbox")
async def inbox_fragment(
    request: Request, container: ContainerDep, agent: ApiAgent, current: int | None = None
) -> Response:
    """The inbox lists alone, for live refreshes."""
    box = await container.workspace.inbox(agent)
    context = {"inbox": box, "current": current}
    return render(request, "workspace/_inbox.html", context, agent=agent)


@router.post("/presence")
async def presence(
    request: Request,
    container: ContainerDep,
    agent: ActingAgent,
    presence: Annotated[str, Form()],
) -> Response:
    """Available, away or offline: only available agents are offered chats."""
    try:
        await container.admin.agents.set_presence(agent_id=agent.id, presence=presence)
    except AgentError as exc:
        return refusal(str(exc), 422)
    wake(container, "assigner")  # someone just became free: offer them the line now
    updated = dataclasses.replace(agent, presence=presence)
    return render(request, "workspace/_presence.html", {}, agent=updated)


@router.get("/sms-cost")
async def cost(request: Request, agent: ApiAgent, body: str = "") -> Response:
    """Encoding and segment count of a draft, as the composer shows it while typing.

    Counted as it will be sent: curly quotes and the like become plain look-alikes.
    """
    sent = gsm_safe(body)
    context = {"cost": sms_cost(sent), "culprits": ucs2_culprits(sent)[:5], "empty": not body}
    return render(request, "workspace/_cost.html", context, agent=agent)
