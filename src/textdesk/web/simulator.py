"""The phone simulator: text textdesk from a browser or a terminal, in sandbox mode.

A texter's text goes through the real path: the sandbox (:class:`FakeTwilio`)
posts a signed webhook to ``/twilio/sms``, exactly as Twilio would.  The thread
shows what was really stored (the inbox) and what textdesk really sent (the
sandbox's record of its REST calls), so the page is also a debugging aid.

Without a sandbox (real Twilio configured) every route answers 404.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from sqlalchemy import select
from starlette.templating import Jinja2Templates

from textdesk.adapters.db import directory
from textdesk.adapters.db.tables import inbox
from textdesk.bootstrap import Container
from textdesk.domain.sms import sms_cost
from textdesk.testing import FakeTwilio, SentMessage
from textdesk.web.deps import ContainerDep

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
# Generous on purpose: an oversized image is worth trying (textdesk must refuse
# it), but the sandbox keeps uploads in memory.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Formats a browser renders without running anything; everything else is
# served as a download, so an uploaded HTML or SVG file cannot script our origin.
_INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
_THREAD_LIMIT = 200


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


# --------------------------------------------------------------------- the thread


@dataclass(frozen=True)
class Attachment:
    """A file on a text; ``inline`` ones are shown as images, the rest as links."""

    url: str
    content_type: str
    inline: bool
    problem: str | None = None


@dataclass(frozen=True)
class Bubble:
    """One text on the simulated phone's screen."""

    key: str
    side: Literal["texter", "bot"]
    body: str
    at: datetime
    media: tuple[Attachment, ...] = ()
    status: str | None = None
    detail: str = ""
    via: str | None = None


@dataclass(frozen=True)
class Thread:
    bubbles: list[Bubble]
    version: str


def _texter_bubble(row: Any) -> Bubble:
    media = tuple(
        Attachment(
            url=f"/simulator/media/{row.message_sid}/{index}",
            content_type=str(item.get("content_type", "")),
            inline=str(item.get("content_type", "")) in _INLINE_TYPES,
            problem=item.get("error"),
        )
        for index, item in enumerate(row.media or [])
    )
    return Bubble(row.message_sid, "texter", row.body, row.received_at, media)


def _bot_bubble(message: SentMessage, number: str) -> Bubble:
    cost = sms_cost(message.body)
    details = []
    if message.num_segments > 1:
        details.append(f"{message.num_segments} segments")
    if message.body and cost.encoding == "UCS-2":
        details.append("UCS-2")
    if message.error_code is not None:
        details.append(f"error {message.error_code}")
    media = tuple(Attachment(url, "image", inline=True) for url in message.media_urls)
    via = message.from_ if message.from_ not in (None, number) else None
    return Bubble(
        message.sid,
        "bot",
        message.body,
        message.created_at,
        media,
        status=message.status,
        detail=" · ".join(details),
        via=via,
    )


async def load_thread(
    container: Container, sandbox: FakeTwilio, *, phone: str, number: str
) -> Thread:
    """What ``phone`` sent to ``number`` (as stored) and every text textdesk sent it."""
    query = (
        select(inbox.c.message_sid, inbox.c.body, inbox.c.media, inbox.c.received_at)
        .where(inbox.c.from_phone == phone, inbox.c.to_phone == number)
        .order_by(inbox.c.id.desc())
        .limit(_THREAD_LIMIT)
    )
    async with container.db.connect() as conn:
        rows = list(await conn.execute(query))
    bubbles = [_texter_bubble(r) for r in reversed(rows)]
    # Texts from our other numbers (notifications) show too, labelled, as they
    # matter to whoever tries the simulator; a real phone would file them apart.
    bubbles += [_bot_bubble(m, number) for m in sandbox.messages_to(phone)[-_THREAD_LIMIT:]]
    bubbles.sort(key=lambda b: (b.at, b.side == "bot"))
    # Media problems are filled in after the text arrives, so they are part of the version.
    fingerprint = "|".join(
        f"{b.key}:{b.status}:" + ",".join(str(a.problem) for a in b.media) for b in bubbles
    )
    return Thread(bubbles, hashlib.sha256(fingerprint.encode()).hexdigest()[:16])


def _render_thread(request: Request, thread: Thread) -> HTMLResponse:
    return templates.TemplateResponse(request, "simulator_thread.html", {"thread": thread})


# --------------------------------------------------------------------- routes


def _guest_phone(taken: set[str]) -> str:
    # +1 555-02xx-xxxx: fictional like the demo accounts (555-0123-...), never theirs.
    while True:
        phone = f"+155502{secrets.randbelow(100_000):05d}"
        if phone not in taken:
            return phone


@router.get("")
async def page(
    request: Request,
    container: ContainerDep,
    sandbox: SandboxDep,
    phone: str = "",
    number: str = "",
) -> HTMLResponse:
    """GET /simulator: the phone, with its pickers for who texts which number."""
    async with container.db.connect() as conn:
        accounts = [u for u in await directory.list_users(conn) if u.phone]
        numbers = [
            n.phone for n in await directory.list_numbers(conn) if n.purpose == "conversational"
        ]
    known = {u.phone for u in accounts if u.phone}
    guest = _guest_phone(known)
    if not _E164.match(phone):
        phone = (accounts[0].phone or guest) if accounts else guest
    number = number if number in numbers else (numbers[0] if numbers else "")
    thread = await load_thread(container, sandbox, phone=phone, number=number)
    context = {
        "accounts": accounts,
        "numbers": numbers,
        "phone": phone,
        "number": number,
        "guest": guest,
        "returning_guest": phone if phone not in known else None,
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
    thread = await load_thread(container, sandbox, phone=phone, number=number)
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
    if not (_E164.match(phone) and _E164.match(number)):
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
    thread = await load_thread(container, sandbox, phone=phone, number=number)
    return _render_thread(request, thread)


@router.get("/messages.json")
async def messages_json(
    container: ContainerDep, sandbox: SandboxDep, phone: str, after: int = 0
) -> JSONResponse:
    """Texts textdesk sent to ``phone``, from the ``after``-th on; ``next`` is the cursor."""
    sent = sandbox.messages_to(phone)
    async with container.db.connect() as conn:
        numbers = [
            n.phone for n in await directory.list_numbers(conn) if n.purpose == "conversational"
        ]
    items = [
        {
            "sid": m.sid,
            "from": m.from_,
            "to": m.to,
            "body": m.body,
            "media_urls": list(m.media_urls),
            "status": m.status,
            "num_segments": m.num_segments,
            "created_at": m.created_at.isoformat(),
        }
        for m in sent[max(after, 0) :]
    ]
    return JSONResponse({"messages": items, "next": len(sent), "numbers": numbers})


@router.get("/media/{message_sid}/{index}")
async def texter_media(
    container: ContainerDep, sandbox: SandboxDep, message_sid: str, index: int
) -> Response:
    """A file a simulated texter sent, fetched back from the sandbox that holds it."""
    async with container.db.connect() as conn:
        media = (
            await conn.execute(select(inbox.c.media).where(inbox.c.message_sid == message_sid))
        ).scalar()
    if not media or not 0 <= index < len(media):
        raise HTTPException(404, "no such attachment")
    url = str(media[index].get("url", ""))
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
    content_type = fetched.headers.get("content-type", "").split(";")[0].strip().lower()
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
    if content_type not in _INLINE_TYPES:
        content_type = "application/octet-stream"
        headers["Content-Disposition"] = "attachment"
    return Response(fetched.content, media_type=content_type, headers=headers)
