"""``POST /api/v1/events/servicenow``: record events a ServiceNow business rule posts.

Signed with the shared secret rather than an API token (the instance holds no
token of ours): the body is read, capped, before anything parses it, and believed
only when its signature and timestamp check out (``domain/servicenow_events.py``).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from textdesk.domain.servicenow_events import (
    MAX_BODY_BYTES,
    MalformedEvent,
    RefusedEvent,
    check_signature,
    parse_event,
)
from textdesk.web.deps import ContainerDep

router = APIRouter(prefix="/api/v1", tags=["events"])


async def _capped_body(request: Request) -> bytes:
    """The raw body (the signature covers these exact bytes), refused past the cap."""
    declared = request.headers.get("content-length", "")
    too_large = HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"an event body is at most {MAX_BODY_BYTES} bytes",
        headers={"Connection": "close"},
    )
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    return bytes(body)


# The body is declared for the API's docs only: it is read raw, to check its signature.
_EXAMPLE: dict[str, Any] = {
    "table": "incident",
    "sys_id": "9d385017c611228701d22104cc95c371",
    "number": "INC0010001",
    "event": "state_changed",
    "state": "Resolved",
    "comment": "",
    "assigned_to": "",
    "caller_id": "62826bf03710200044e0bfc8bcbe5df1",
    "sys_updated_on": "2026-12-02 05:00:00",
}


@router.post(
    "/events/servicenow",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"example": _EXAMPLE}},
        },
        "parameters": [
            {
                "name": "X-Textdesk-Timestamp",
                "in": "header",
                "required": True,
                "description": "Unix seconds when the instance signed the body",
                "schema": {"type": "string"},
            },
            {
                "name": "X-Textdesk-Signature",
                "in": "header",
                "required": True,
                "description": "base64(HMAC-SHA256(secret, '<timestamp>.<raw body>'))",
                "schema": {"type": "string"},
            },
        ],
    },
    responses={401: {"description": "Not signed with the shared secret, or not recently"}},
)
async def servicenow_event(request: Request, container: ContainerDep) -> dict[str, Any]:
    """Notify an incident's caller of a change on the instance; the same event twice
    notifies once (both answered 200)."""
    body = await _capped_body(request)
    try:
        check_signature(
            secret=container.settings.servicenow_events_secret,
            timestamp=request.headers.get("x-textdesk-timestamp"),
            signed=request.headers.get("x-textdesk-signature"),
            body=body,
            now=time.time(),
        )
    except RefusedEvent as refused:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(refused)) from refused
    events = container.servicenow_events
    if events is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "events are taken only when the records are on ServiceNow "
            "(TEXTDESK_RECORDS=servicenow)",
        )
    try:
        event = parse_event(body)
    except MalformedEvent as bad:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(bad)) from bad
    received = await events.receive(event)
    if received.duplicate:
        return {"status": "duplicate", "queued": 0, "skipped": {}}
    report = received.report
    return {
        "status": "queued" if report.queued else "skipped",
        "queued": report.queued,
        "skipped": dict(report.skipped),
    }
