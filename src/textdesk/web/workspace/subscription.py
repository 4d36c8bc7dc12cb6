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

from textdesk.notifications.subscriptions import MAX_REASON, StaffChange
from textdesk.web.auth import ActingAgent
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace.render import refusal

router = APIRouter(prefix="/conversations")
# What the admin is told when the change is refused, and with which status.
REFUSALS = {
    StaffChange.NOT_ADMIN: ("only an admin may change a texter's notifications", 403),
    StaffChange.NO_REASON: (f"give a reason (up to {MAX_REASON} characters)", 422),
    StaffChange.NO_CONVERSATION: ("no such conversation", 404),
    StaffChange.GUEST: ("guests have no notifications to change", 409),
}


@router.post("/{cid}/subscription")
async def change_subscription(
    container: ContainerDep,
    agent: ActingAgent,
    cid: int,
    enabled: Annotated[bool, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Set the texter's notifications to ``enabled``; ``reason`` is required and kept."""
    outcome = await container.notifications.subscriptions.change_for_texter(
        cid, enabled=enabled, reason=reason, actor=agent.name, is_admin=agent.is_admin
    )
    if outcome in REFUSALS:
        return refusal(*REFUSALS[outcome])
    url = f"/workspace/conversations/{cid}"
    return Response(status_code=200, headers={"HX-Redirect": url, "Cache-Control": "no-store"})
