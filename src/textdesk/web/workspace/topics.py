"""The topic designer's list: every topic, and new / duplicate / delete (admins only).

Plain forms that redirect, so the list works without scripts; deleting a topic is
unpublishing it (its versions and draft stay, to publish again), after a confirm.
One topic's editor is in ``topic_editor.py``, its phone pane in ``topic_trial.py``.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from textdesk.bootstrap import Container
from textdesk.topics.library import InvalidTopic, UnknownTopic, valid_id
from textdesk.web.auth import PageAgent
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace import topic_assets, topic_editor, topic_flow, topic_trial
from textdesk.web.workspace.admins import ActingAdmin, not_admin_page
from textdesk.web.workspace.render import render

router = APIRouter(prefix="/topics")
router.include_router(topic_editor.router)
router.include_router(topic_trial.router)
router.include_router(topic_flow.router)
router.include_router(topic_assets.router)

_ID_LINE = re.compile(r"^id:.*$", re.MULTILINE)


def yaml_text(text: str) -> str:
    """``text`` as a YAML scalar that reads back as that text: quoted when YAML would
    read it as something else (an id ``404``, ``on`` or ``null`` is a number, a
    boolean, nothing).  JSON's double quotes are YAML's."""
    try:
        plain = yaml.safe_load(text) == text
    except yaml.YAMLError:
        plain = False
    return text if plain else json.dumps(text)


def starter_source(topic_id: str) -> str:
    """A new topic's first draft: valid, so it can be saved, tried and built on."""
    title = topic_id.replace("_", " ").replace("-", " ").strip().capitalize() or topic_id
    return (
        f"title: {yaml_text(title)}\n"
        f"keywords: [{yaml_text(title.lower())}]\n"
        "nodes:\n"
        "  - type: message\n"
        "    text: Hello! This topic has just been made.\n"
    )


def copied_source(source: str, topic_id: str) -> str:
    """``source`` as topic ``topic_id``: its ``id:`` line, if it has one, renamed."""
    return _ID_LINE.sub(f"id: {yaml_text(topic_id)}", source, count=1)


async def _listing(
    request: Request,
    container: Container,
    agent: Any,
    *,
    error: str | None = None,
    status_code: int = 200,
    new_id: str = "",
) -> Response:
    summaries = sorted(await container.topic_library.summaries(), key=lambda s: s.id)
    context = {"topics": summaries, "error": error, "new_id": new_id}
    return render(request, "workspace/topics.html", context, agent=agent, status_code=status_code)


@router.get("")
async def listing(request: Request, container: ContainerDep, agent: PageAgent) -> Response:
    """Every topic: title, keywords, published version, draft changes, last editor."""
    if not agent.is_admin:
        return not_admin_page(request, agent)
    return await _listing(request, container, agent)


async def _create(
    request: Request, container: Container, agent: Any, topic_id: str, source: str
) -> Response:
    """Save ``source`` as the first draft of a new topic, then open its editor."""
    topic_id = topic_id.strip()
    if not valid_id(topic_id) or topic_id.startswith("_"):
        error = (
            "An id is letters, digits and _ . - (a file name without .yaml), not starting with _."
        )
        return await _listing(
            request, container, agent, error=error, status_code=422, new_id=topic_id
        )
    if any(s.id == topic_id for s in await container.topic_library.summaries()):
        error = f"There is already a topic {topic_id!r}."
        return await _listing(
            request, container, agent, error=error, status_code=409, new_id=topic_id
        )
    try:
        await container.topic_library.save_draft(topic_id, source, by=agent.name, revision=0)
    except InvalidTopic as exc:
        error = f"Not made: {exc}"
        return await _listing(
            request, container, agent, error=error, status_code=422, new_id=topic_id
        )
    return RedirectResponse(f"/workspace/topics/{topic_id}", status_code=303)


@router.post("/new")
async def new_topic(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: Annotated[str, Form()],
) -> Response:
    """A new topic with a one-message draft, opened in the editor."""
    return await _create(request, container, agent, topic_id, starter_source(topic_id.strip()))


@router.post("/{topic_id}/duplicate")
async def duplicate(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    new_id: Annotated[str, Form()],
) -> Response:
    """A new topic whose draft is this one's source (its draft, else what is published)."""
    try:
        original = await container.topic_library.get(topic_id)
    except UnknownTopic:
        return await _listing(
            request, container, agent, error=f"No topic {topic_id!r}.", status_code=404
        )
    source = copied_source(original.source or "", new_id.strip())
    return await _create(request, container, agent, new_id, source)


@router.post("/{topic_id}/unpublish")
async def unpublish(
    request: Request, container: ContainerDep, agent: ActingAdmin, topic_id: str
) -> Response:
    """Stop serving the topic; texters mid-topic finish on the version they started."""
    try:
        await container.topic_library.unpublish(topic_id, by=agent.name)
    except UnknownTopic:
        return await _listing(
            request, container, agent, error=f"No topic {topic_id!r}.", status_code=404
        )
    return RedirectResponse("/workspace/topics", status_code=303)
