"""Who is asking, for the Agent Workspace: signed session cookies and CSRF tokens.

The session (Starlette's signed cookie) holds the agent's id and a CSRF token.
Pages answer a redirect to the sign-in form when there is no session; fragments,
actions and the event stream answer 401.  Every POST must echo the token, as the
``csrf_token`` form field or the ``X-CSRF-Token`` header (htmx sends the header).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status

from textdesk.config import Settings
from textdesk.ports import AgentRow
from textdesk.web.deps import get_container

SESSION_COOKIE = "textdesk_session"
SESSION_MAX_AGE = 12 * 3600  # a working day: sign in again the next shift
LOGIN_PATH = "/workspace/login"
_AGENT_KEY = "agent_id"
_CSRF_KEY = "csrf"
_EPOCH_KEY = "epoch"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def session_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for Starlette's ``SessionMiddleware``."""
    # A key of its own, so a cookie and a signed media URL can never stand in for each other.
    key = hashlib.sha256(f"textdesk.session:{settings.secret_key}".encode()).hexdigest()
    return {
        "secret_key": key,
        "session_cookie": SESSION_COOKIE,
        "max_age": SESSION_MAX_AGE,
        "same_site": "lax",
        "https_only": settings.public_url.startswith("https://"),
    }


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(_CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_KEY] = token
    return token


def start_session(request: Request, agent: AgentRow) -> None:
    """Signed in: a fresh session (never the one used before sign-in) and a fresh token."""
    request.session.clear()
    request.session[_AGENT_KEY] = agent.id
    request.session[_EPOCH_KEY] = agent.session_epoch
    request.session[_CSRF_KEY] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    request.session.clear()


async def check_csrf(request: Request) -> None:
    """403 unless the request echoes the session's CSRF token."""
    expected = request.session.get(_CSRF_KEY)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        # Cached by Starlette: the route's own form parameters read the same parse.
        field = (await request.form()).get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    if not (isinstance(expected, str) and given and hmac.compare_digest(expected, given)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "the form has expired or is forged: reload the page"
        )


async def _signed_in(request: Request) -> AgentRow | None:
    agent_id = request.session.get(_AGENT_KEY)
    if not isinstance(agent_id, int):
        return None
    # Read afresh each time: a removed agent is signed out at once, and a cookie from
    # before a sign-out (the same browser's, or a copy) is no longer valid.
    authenticator = get_container(request).authenticator
    return await authenticator.session_agent(agent_id, request.session.get(_EPOCH_KEY))


async def page_agent(request: Request) -> AgentRow:
    """The signed-in agent; without one, a redirect to the sign-in form (for pages)."""
    agent = await _signed_in(request)
    if agent is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, headers={"Location": f"{LOGIN_PATH}?next={quote(target)}"}
        )
    return agent


async def api_agent(request: Request) -> AgentRow:
    """The signed-in agent; without one, 401 (for fragments and the event stream)."""
    agent = await _signed_in(request)
    if agent is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in to the workspace first")
    return agent


async def acting_agent(
    request: Request, agent: Annotated[AgentRow, Depends(api_agent)]
) -> AgentRow:
    """The signed-in agent of a POST that carries the CSRF token (401, then 403)."""
    await check_csrf(request)
    return agent


PageAgent = Annotated[AgentRow, Depends(page_agent)]
ApiAgent = Annotated[AgentRow, Depends(api_agent)]
ActingAgent = Annotated[AgentRow, Depends(acting_agent)]


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: only a workspace path of ours, never another site."""
    if target and target.startswith("/workspace") and "//" not in target and "\\" not in target:
        return target
    return "/workspace"
