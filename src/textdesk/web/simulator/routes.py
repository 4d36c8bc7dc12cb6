"""The phone simulator: text textdesk from a browser or a terminal, in sandbox mode.

A texter's text goes through the real path: the sandbox (:class:`FakeTwilio`)
posts a signed webhook to ``/twilio/sms``, exactly as Twilio would.  The thread
shows what was really stored (the inbox) and what textdesk really sent (the
outbox, with the statuses the sandbox's callbacks reported), so the page is also a
debugging aid, and it reads the same after a restart and from every process.

Without a sandbox (real Twilio configured, or not a demo install) every route answers 404.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from starlette.templating import Jinja2Templates

from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.admin.simulator import INLINE_TYPES, NoSuchAttachment, Thread
from textdesk.domain.sms import is_e164
from textdesk.web.deps import ContainerDep

WEB_DIR = Path(__file__).resolve().parents[1]
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"

_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
# Generous on purpose: an oversized image is worth trying (textdesk must refuse
# it), but the sandbox keeps uploads in memory.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def _linkify(text: str) -> Markup:
    """Escape ``text`` and make its http(s) URLs clickable."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(escape(text[last : match.start()]))
        url = escape(match.group(0))
        out.append(f'<a href="{url}" target="_blank" rel="noopener noreferrer">{url}</a>')
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("".join(out))  # noqa: S704 - every piece above was escaped


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    env.filters["linkify"] = _linkify
    return env


templates = Jinja2Templates(env=_environment())
router = APIRouter(prefix="/simulator", include_in_schema=False)


def get_sandbox(request: Request) -> FakeTwilio:
    """The sandbox stand-in; 404 when real Twilio carries the texts."""
    sandbox: FakeTwilio | None = getattr(request.app.state, "sandbox", None)
    if sandbox is None:
        raise HTTPException(404, "the phone simulator exists only in sandbox mode")
    return sandbox


SandboxDep = Annotated[FakeTwilio, Depends(get_sandbox)]


def refuse_cross_site(request: Request) -> None:
    """403 for a browser POST from another site (login-free pages still need CSRF care).

    Browsers always label cross-origin POSTs with ``Origin`` (and usually
    ``Sec-Fetch-Site``); a client that sends neither, like ``textdesk chat``, is
    not a browser being tricked and may post.
    """
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(403, "cross-site request refused")
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return
    host = request.headers.get("host", "")
    public = urlsplit(request.app.state.container.settings.public_url).netloc
    if urlsplit(source).netloc not in {host, public}:
        raise HTTPException(403, "cross-site request refused")


def _render_thread(request: Request, thread: Thread) -> HTMLResponse:
    return templates.TemplateResponse(request, "simulator_thread.html", {"thread": thread})


# --------------------------------------------------------------------- routes


@router.get("")
async def page(
    request: Request,
    container: ContainerDep,
    sandbox: SandboxDep,
    phone: str = "",
    number: str = "",
) -> HTMLResponse:
    """GET /simulator: the phone, with its pickers for who texts which number."""
    setup = await container.simulator.setup(phone=phone, number=number)
    thread = await container.simulator.thread(phone=setup.phone, number=setup.number)
    context = {
        "accounts": setup.accounts,
        "numbers": setup.numbers,
        "phone": setup.phone,
        "number": setup.number,
        "guest": setup.guest,
        "returning_guest": setup.returning_guest,
        "thread": thread,
    }
    return templates.TemplateResponse(request, "simulator.html", context)


@router.get("/thread")
async def thread_fragment(
    request: Request,
    container: ContainerDep,
    sandbox: SandboxDep,
    phone: str,
    number: str,
    version: str = "",
) -> Response:
    """The thread as an HTML fragment; 204 when it still matches ``version`` (polling)."""
    thread = await container.simulator.thread(phone=phone, number=number)
    if version and version == thread.version:
        return Response(status_code=204)
    return _render_thread(request, thread)


async def _read_upload(file: UploadFile | None) -> list[tuple[bytes, str]]:
    # An empty <input type=file> still posts a nameless, empty part.
    if file is None or not file.filename:
        return []
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"the simulator takes files up to {MAX_UPLOAD_BYTES >> 20} MB")
    if not data:
        return []
    return [(data, file.content_type or "application/octet-stream")]


@router.post("/send", dependencies=[Depends(refuse_cross_site)])
async def send(
    request: Request,
    container: ContainerDep,
    sandbox: SandboxDep,
    phone: Annotated[str, Form()],
    number: Annotated[str, Form()],
    body: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """POST /simulator/send: the texter's phone sends a text (and a file) to ``number``.

    Answers the refreshed thread, or JSON ``{"sid": ...}`` to a client that
    accepts JSON (``textdesk chat``).  502 when textdesk's webhook refused it.
    """
    if not (is_e164(phone) and is_e164(number)):
        raise HTTPException(400, "phone and number must be E.164, like +15551230001")
    media = await _read_upload(file)
    if not body.strip() and not media:
        raise HTTPException(400, "type a message or attach a file")
    sid = ("MM" if media else "SM") + secrets.token_hex(16)
    webhook = container.settings.url_for("/twilio/sms")
    try:
        answer = await sandbox.send_inbound(
            webhook_url=webhook, from_=phone, to=number, body=body, media=media, message_sid=sid
        )
    except httpx.HTTPError as exc:
        return PlainTextResponse(f"could not reach textdesk at {webhook}: {exc!r}", 502)
    if answer.is_error:
        detail = answer.text.strip()[:200]
        return PlainTextResponse(f"textdesk answered {answer.status_code}: {detail}", 502)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"sid": sid})
    thread = await container.simulator.thread(phone=phone, number=number)
    return _render_thread(request, thread)


@router.get("/messages.json")
async def messages_json(
    container: ContainerDep, sandbox: SandboxDep, phone: str, after: int | None = None
) -> JSONResponse:
    """Texts Twilio (the sandbox) accepted for ``phone``, after the cursor ``after``.

    Without ``after``: the latest ones, and ``next`` is "from now on". The cursor is
    an outbox id, so it means the same in every process and after a restart.
    """
    delivered = await container.simulator.delivered(phone=phone, after=after)
    items = [
        {
            "sid": m.twilio_sid,
            "from": m.from_phone,
            "to": phone,
            "body": m.body,
            "media_urls": [container.signer.url_for(key) for key in m.media],
            "status": m.status,
            "num_segments": m.segments,
            "created_at": m.at.isoformat(),
        }
        for m in delivered.sent
    ]
    return JSONResponse({"messages": items, "next": delivered.cursor, "numbers": delivered.numbers})


@router.get("/media/{message_sid}/{index}")
async def texter_media(
    container: ContainerDep, sandbox: SandboxDep, message_sid: str, index: int
) -> Response:
    """A file a simulated texter sent: as textdesk stored it, else from the sandbox.

    Photos textdesk kept are in its database (so they survive a restart); a file it
    refused, such as a PDF, is only in the sandbox's memory while it runs.
    """
    try:
        found = await container.simulator.texter_file(message_sid, index)
    except NoSuchAttachment as exc:
        raise HTTPException(404, str(exc)) from exc
    if found.stored is not None:
        return _attachment(found.stored.data, found.stored.content_type)
    url = found.url
    if not url.startswith(sandbox.base_url + "/"):
        raise HTTPException(404, "that attachment is not held by the sandbox")
    # In-process: no second trip through the network to reach our own mount.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url="http://sandbox",
        auth=(sandbox.account_sid, sandbox.auth_token),
        follow_redirects=True,
    ) as client:
        fetched = await client.get(url.removeprefix(sandbox.base_url))
    if fetched.is_error:
        raise HTTPException(404, "the sandbox no longer holds that attachment")
    return _attachment(fetched.content, fetched.headers.get("content-type", ""))


def _attachment(data: bytes, content_type: str) -> Response:
    """A texter's file as a response that cannot script our origin."""
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
    if kind not in INLINE_TYPES:
        kind = "application/octet-stream"
        headers["Content-Disposition"] = "attachment"
    return Response(data, media_type=kind, headers=headers)
