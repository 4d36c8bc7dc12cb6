"""Twilio's webhooks: inbound texts and status callbacks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from textdesk.adapters.twilio.signature import is_valid_signature
from textdesk.bootstrap import Container
from textdesk.domain.inbound import MalformedWebhook, parse_inbound
from textdesk.services.receive import Acceptance, accept_inbound, accept_status

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def _signed_form(request: Request, path: str) -> list[tuple[str, str]] | None:
    """The posted form if its signature is good; Twilio signs the public URL it called."""
    container: Container = request.app.state.container
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    url = container.settings.url_for(path)
    if request.url.query:
        url = f"{url}?{request.url.query}"
    token = container.settings.auth_token
    if not is_valid_signature(token, url, items, request.headers.get("x-twilio-signature")):
        return None
    return items


async def inbound_sms(request: Request) -> Response:
    """POST /twilio/sms: store the text durably, answer empty TwiML."""
    container: Container = request.app.state.container
    items = await _signed_form(request, "/twilio/sms")
    if items is None:
        return PlainTextResponse("invalid X-Twilio-Signature", status_code=403)
    try:
        message = parse_inbound(items)
    except MalformedWebhook as exc:
        return PlainTextResponse(f"malformed webhook: {exc}", status_code=400)
    result = await accept_inbound(
        committer=container.committer,
        numbers=container.numbers,
        clock=container.clock,
        message=message,
    )
    if result is Acceptance.UNKNOWN_NUMBER:
        return PlainTextResponse("number not configured for conversations", status_code=404)
    return Response(EMPTY_TWIML, media_type="text/xml")


async def status_callback(request: Request) -> Response:
    """POST /twilio/status: record a delivery status (never moving backwards)."""
    container: Container = request.app.state.container
    items = await _signed_form(request, "/twilio/status")
    if items is None:
        return PlainTextResponse("invalid X-Twilio-Signature", status_code=403)
    fields = dict(items)
    sid = fields.get("MessageSid") or fields.get("SmsSid")
    status = fields.get("MessageStatus") or fields.get("SmsStatus")
    if not sid or not status:
        return PlainTextResponse("MessageSid and MessageStatus are required", status_code=400)
    code = fields.get("ErrorCode", "")
    moved = await accept_status(
        committer=container.committer,
        clock=container.clock,
        sid=sid,
        status=status.lower(),
        error_code=int(code) if code.isdigit() else None,
    )
    if moved:
        await container.bus.publish({"type": "status", "conversation_id": moved})
    return Response(status_code=204)
