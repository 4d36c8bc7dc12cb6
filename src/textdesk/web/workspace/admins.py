"""Pages and actions only an admin may use (the topic designer).

An agent who follows a link to one gets a page saying so (403), never the page;
their fragments and POSTs are refused with 403 as plain text, like the other
refusals ``workspace.js`` shows in the notice bar.  Whether the thing exists is
not hidden: agents know the desk has topics, they just do not edit them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import Response

from textdesk.ports import AgentRow
from textdesk.web.auth import ActingAgent, ApiAgent
from textdesk.web.workspace.render import render

ONLY_ADMINS = "only an admin may edit topics"


def not_admin_page(request: Request, agent: AgentRow) -> Response:
    """What an agent sees at an admin's page."""
    return render(request, "workspace/admins_only.html", {}, agent=agent, status_code=403)


async def admin_api(agent: ApiAgent) -> AgentRow:
    """The signed-in admin of a fragment (401 signed out, 403 an agent)."""
    if not agent.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, ONLY_ADMINS)
    return agent


async def acting_admin(agent: ActingAgent) -> AgentRow:
    """An admin's POST, with its CSRF token (401, then 403 for the token, then the role)."""
    if not agent.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, ONLY_ADMINS)
    return agent


AdminApi = Annotated[AgentRow, Depends(admin_api)]
ActingAdmin = Annotated[AgentRow, Depends(acting_admin)]
