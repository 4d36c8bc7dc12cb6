"""The Workspace's outbound banner: texts waiting because Twilio keeps failing."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from textdesk.adapters.db import backlog
from textdesk.web.auth import ApiAgent
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace.render import render

router = APIRouter()


@router.get("/outbound")
async def outbound(request: Request, container: ContainerDep, agent: ApiAgent) -> Response:
    """What is waiting to be sent, shown to every signed-in agent while sends fail."""
    async with container.db.connect() as conn:
        waiting = await backlog.backlog(conn)
    window = timedelta(seconds=container.settings.send_give_up_after_seconds)
    context = {"backlog": waiting, "give_up_at": waiting.give_up_at(window)}
    return render(request, "workspace/_outbound.html", context, agent=agent)
