"""The Workspace's outbound banner: texts waiting because Twilio keeps failing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from textdesk.web.auth import ApiAgent
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace.render import render

router = APIRouter()


@router.get("/outbound")
async def outbound(request: Request, container: ContainerDep, agent: ApiAgent) -> Response:
    """What is waiting to be sent, shown to every signed-in agent while sends fail."""
    banner = await container.workspace.banner()
    context = {"backlog": banner.backlog, "give_up_at": banner.give_up_at}
    return render(request, "workspace/_outbound.html", context, agent=agent)
