"""An admin turns a texter's SMS notifications on or off from the Workspace, with a reason.

The change joins the audit trail with its reason and the admin's name, beside the
texter's own START/STOP and the API's changes. Agents see the setting; only admins
change it (it is the texter's consent, not part of answering a chat). Turning it on
does not lift a carrier opt-out: only the texter can, by texting START.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response

from textdesk.adapters.db import conversations
from textdesk.adapters.db import workspace_views as views
from textdesk.adapters.db.subscriptions import SqlSubscriptions
from textdesk.notifications.subscriptions import set_subscription
from textdesk.web.auth import ActingAgent
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace.render import refusal

router = APIRouter(prefix="/conversations")
MAX_REASON = 500


@router.post("/{cid}/subscription")
async def change_subscription(
    container: ContainerDep,
    agent: ActingAgent,
    cid: int,
    enabled: Annotated[bool, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Set the texter's notifications to ``enabled``; ``reason`` is required and kept."""
    why = reason.strip()
    if not agent.is_admin:
        return refusal("only an admin may change a texter's notifications", 403)
    if not why or len(why) > MAX_REASON or "\x00" in why:
        return refusal(f"give a reason (up to {MAX_REASON} characters)", 422)
    async with container.db.begin() as conn:
        if cid not in await views.visible_among(conn, agent, [cid]):
            return refusal("no such conversation", 404)
        conv = await conversations.get(conn, cid)
        if conv is None or conv.user_id is None:
            return refusal("guests have no notifications to change", 409)
        await set_subscription(
            SqlSubscriptions(conn),
            user_id=conv.user_id,
            enabled=enabled,
            source="workspace",
            now=container.clock.now(),
            reason=why,
            actor=agent.name,
        )
    url = f"/workspace/conversations/{cid}"
    return Response(status_code=200, headers={"HX-Redirect": url, "Cache-Control": "no-store"})
