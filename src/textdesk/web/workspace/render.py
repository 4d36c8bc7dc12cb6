"""Rendering for the Agent Workspace: templates, filters, and the small shared helpers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.templating import Jinja2Templates

from textdesk.bootstrap import Container
from textdesk.domain.dates import as_utc
from textdesk.ports import AgentRow
from textdesk.web.auth import csrf_token
from textdesk.web.pages import TEMPLATES_DIR

NO_STORE = {"Cache-Control": "no-store"}


def _iso(value: datetime | None) -> str:
    """The exact moment for ``datetime=`` attributes: ISO 8601, UTC."""
    return as_utc(value).isoformat() if value else ""


@pass_context
def _clock(context: Context, value: datetime | None) -> str:
    """``HH:MM`` in the desk's timezone (``render`` puts it in the context as ``zone``).

    The first paint, and what a browser without JS keeps; workspace.js then shows the
    agent's own clock from the ``datetime=`` attribute.
    """
    zone: tzinfo = context.get("zone") or UTC
    return as_utc(value).astimezone(zone).strftime("%H:%M") if value else ""


@pass_context
def _stamp(context: Context, value: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM`` in the desk's timezone: when a topic was edited or published."""
    zone: tzinfo = context.get("zone") or UTC
    return as_utc(value).astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def _since(value: datetime | None) -> str:
    """How long ago ``value`` was (first paint; workspace.js keeps it ticking)."""
    return _duration((datetime.now(UTC) - value).total_seconds()) if value else ""


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    env.filters.update(iso=_iso, clock=_clock, since=_since, stamp=_stamp)
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    agent: AgentRow | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A workspace template with the agent and the session's CSRF token in its context."""
    return templates.TemplateResponse(
        request,
        name,
        {
            "agent": agent,
            "csrf_token": csrf_token(request),
            "zone": request.app.state.container.record_views.zone,
            **context,
        },
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )


def refusal(message: str, status_code: int) -> Response:
    """A refused action: plain text that workspace.js shows in the notice bar."""
    return PlainTextResponse(message, status_code=status_code, headers=NO_STORE)


def wake(container: Container, *names: str) -> None:
    """Nudge this process's background loops (the others find the work on their poll)."""
    for loop in container.loops:
        if loop.name in names:
            loop.wake()
