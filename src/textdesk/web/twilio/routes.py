"""Twilio's webhooks: inbound texts and status callbacks."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message

from textdesk import metrics
from textdesk.adapters.twilio.signature import is_valid_signature
from textdesk.bootstrap import Container
from textdesk.channel.inbound import Acceptance, accept_inbound, accept_status
from textdesk.domain.twilio_forms import MalformedWebhook, parse_inbound, parse_status

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Responses hold no per-request state, so every webhook can be answered with the same one.
_EMPTY_TWIML_RESPONSE = Response(EMPTY_TWIML, media_type="text/xml")
_NO_CONTENT = Response(status_code=204)


# Starlette's limit for a parsed form, kept for the forms parsed here.
MAX_FIELDS = 1000
# Twilio's webhooks are a few KB (a 1,600-character body, ten media URLs, a few dozen
# fields); anything far larger is not Twilio and is refused before it is buffered.
MAX_BODY_BYTES = 256 * 1024


def _too_large() -> HTTPException:
    # The rest of the body is not read: the connection is closed after the answer,
    # rather than drained for the next request on it.
    return HTTPException(
        413, f"a webhook body is at most {MAX_BODY_BYTES} bytes", headers={"Connection": "close"}
    )


async def _capped_body(request: Request) -> bytes:
    """The request's body, refused with 413 as soon as it is known to pass the cap.

    A declared Content-Length is checked before anything is read; a chunked body is
    counted as it arrives.  This comes before any parsing, for every content type.
    """
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _too_large()
    return bytes(body)


def urlencoded_items(body: bytes) -> list[tuple[str, str]]:
    """A urlencoded form's fields in order, exactly as Starlette's ``request.form()``.

    That is: ``&``-separated, empty chunks skipped, a field without ``=`` has an empty
    value, names and values ``unquote_plus``-ed from latin-1 (bad UTF-8 replaced), and
    more than ``MAX_FIELDS`` fields refused with Starlette's 400.  The standard
    library's ``parse_qsl`` decodes it so, as fast as the loop it replaced and about
    a third of the CPU of python-multipart's streaming parser that Starlette runs:
    for an inbound text, an MMS and a status callback, 52, 54 and 17 µs against the
    loop's 45, 68 and 16 and Starlette's 155, 138 and 52 (medians of 21 alternating
    rounds, ``python -m benchmarks.form_parsing``, on a busy shared machine).
    """
    # "&" is counted first (one pass in C): a body of a thousand empty chunks and one
    # field is fine, as it is for Starlette, and only such bodies are split to count.
    if body.count(b"&") >= MAX_FIELDS and sum(1 for f in body.split(b"&") if f) > MAX_FIELDS:
        raise HTTPException(400, f"Too many fields. Maximum number of fields is {MAX_FIELDS}.")
    return parse_qsl(body.decode("latin-1"), keep_blank_values=True)


async def _form_items(request: Request) -> list[tuple[str, str]]:
    """The posted fields in order, as ``request.form()`` gives them.

    Twilio posts ``application/x-www-form-urlencoded``, decoded by
    ``urlencoded_items``; any other type goes to Starlette, given the body already
    read (so already capped).
    """
    body = await _capped_body(request)
    ctype = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return await _other_form(request, body)
    return urlencoded_items(body)


async def _other_form(request: Request, body: bytes) -> list[tuple[str, str]]:
    """Starlette's reading of a form that is not urlencoded (multipart, or nothing)."""

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async with Request(request.scope, replay).form(max_fields=MAX_FIELDS) as form:
        # A multipart part may declare any charset; what UTF-8 cannot carry (a lone
        # surrogate) could neither be signed nor stored, so it is replaced.
        return [(_utf8(k), _utf8(v)) for k, v in form.multi_items() if isinstance(v, str)]


def _utf8(text: str) -> str:
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


async def _signed_form(request: Request, path: str) -> list[tuple[str, str]] | None:
    """The posted form if its signature is good; Twilio signs the public URL it called."""
    container: Container = request.app.state.container
    items = await _form_items(request)
    url = container.settings.url_for(path)
    # What ``request.url.query`` gives (up to any "#"), without building the whole URL.
    query = request.scope.get("query_string", b"").decode().partition("#")[0]
    if query:
        url = f"{url}?{query}"
    token = container.settings.auth_token
    if not is_valid_signature(token, url, items, request.headers.get("x-twilio-signature")):
        return None
    return items


def _refused(path: str, problem: MalformedWebhook) -> Response:
    # Signed, so Twilio (or someone holding its token, or replaying its requests) sent
    # it: worth a line in the log, where a forged signature is not.
    log.warning("signed webhook to %s refused: %s", path, problem)
    return PlainTextResponse(f"malformed webhook: {problem}", status_code=400)


async def inbound_sms(request: Request) -> Response:
    """POST /twilio/sms: store the text durably, answer empty TwiML."""
    container: Container = request.app.state.container
    items = await _signed_form(request, "/twilio/sms")
    if items is None:
        return PlainTextResponse("invalid X-Twilio-Signature", status_code=403)
    try:
        message = parse_inbound(items)
    except MalformedWebhook as exc:
        return _refused("/twilio/sms", exc)
    result = await accept_inbound(
        committer=container.committer,
        numbers=container.numbers,
        clock=container.clock,
        message=message,
        process=container.settings.inline_processing,
    )
    if result is Acceptance.UNKNOWN_NUMBER:
        return PlainTextResponse("number not configured for conversations", status_code=404)
    return _EMPTY_TWIML_RESPONSE


async def status_callback(request: Request) -> Response:
    """POST /twilio/status: record a delivery status (never moving backwards)."""
    container: Container = request.app.state.container
    items = await _signed_form(request, "/twilio/status")
    if items is None:
        return PlainTextResponse("invalid X-Twilio-Signature", status_code=403)
    try:
        report = parse_status(items)
    except MalformedWebhook as exc:
        return _refused("/twilio/status", exc)
    if report.status is None:
        # Not a status Twilio reports: it cannot move a message, and an answer other
        # than 2xx would only show in Twilio's debugger (callbacks are not retried).
        log.warning("status callback for %s: unknown status; ignored", report.message_sid)
        metrics.STATUS_CALLBACKS.labels("unknown").inc()
        return _NO_CONTENT
    moved = await accept_status(
        committer=container.committer,
        clock=container.clock,
        sid=report.message_sid,
        status=report.status,
        error_code=report.error_code,
    )
    if moved:
        await container.updates.status_moved(moved)
    return _NO_CONTENT
