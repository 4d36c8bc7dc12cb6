"""One topic in the designer: its YAML, live checks, saving, publishing, history.

The page posts the editor's text as it is typed (debounced) and gets back what the
validator of ``textdesk topics validate`` says, each finding on its line and field,
and what every text the topic sends will cost.  Saving sends the revision the page
started from: a save over someone else's newer change is refused (409) and shows
their version, so nobody's work is lost.  Publishing names the revision too, so what
goes live is the draft the admin was looking at.

A refusal answers with the fragment to show (409, 422); ``designer.js`` swaps it in.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from textdesk.bootstrap import Container
from textdesk.topic_tools.node_form import node_types
from textdesk.topic_tools.prompt_costs import prompt_costs
from textdesk.topic_tools.source_diff import source_diff
from textdesk.topic_tools.topic_files import SourceError
from textdesk.topics.library import (
    InvalidTopic,
    NothingToPublish,
    StaleDraft,
    TopicDetail,
    UnknownTopic,
)
from textdesk.web.auth import PageAgent
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace.admins import ActingAdmin, AdminApi, not_admin_page
from textdesk.web.workspace.render import refusal, render

router = APIRouter()
NO_TOPIC = "no such topic"
MAX_SOURCE = 200_000  # characters: a topic is a page of YAML, not a book
# Accounts offered by name in the phone pane: a desk's first ones, to try as without
# looking up a number (any other number can still be typed).
TRIAL_TEXTERS = 50


def _check_context(
    container: Container, source: str, errors: list[SourceError], warnings: list[SourceError]
) -> dict[str, Any]:
    more_word = container.topics.engine.topics.settings.more_word
    return {
        "errors": errors,
        "warnings": warnings,
        "costs": prompt_costs(source, more_word=more_word),
    }


async def _detail(container: Container, topic_id: str) -> TopicDetail | None:
    try:
        return await container.topic_library.get(topic_id)
    except UnknownTopic:
        return None


@router.get("/{topic_id}")
async def editor(
    request: Request, container: ContainerDep, agent: PageAgent, topic_id: str
) -> Response:
    """The editor: the YAML, its checks and costs, save, publish, changes, versions."""
    if not agent.is_admin:
        return not_admin_page(request, agent)
    detail = await _detail(container, topic_id)
    if detail is None:
        return render(request, "workspace/topic_missing.html", {}, agent=agent, status_code=404)
    source = detail.source or ""
    errors, warnings = detail.errors, detail.warnings
    if detail.draft_source is None:
        errors, warnings = await container.topic_library.check(topic_id, source)
    context = {
        "topic": detail,
        "source": source,
        "revision": detail.revision,
        "node_types": node_types(),
        "texters": [a for a in await container.admin.accounts.all(limit=TRIAL_TEXTERS) if a.phone],
        **_check_context(container, source, errors, warnings),
    }
    return render(request, "workspace/topic.html", context, agent=agent)


@router.post("/{topic_id}/check")
async def check(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    source: Annotated[str, Form(max_length=MAX_SOURCE)] = "",
) -> Response:
    """What the validator says of the editor's text, and what each text costs."""
    errors, warnings = await container.topic_library.check(topic_id, source)
    context = _check_context(container, source, errors, warnings)
    return render(request, "workspace/_topic_check.html", context, agent=agent)


def _bar(
    request: Request,
    container: Container,
    agent: Any,
    detail: TopicDetail,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    context: dict[str, Any] = {"topic": detail, "revision": detail.revision, **extra}
    return render(
        request, "workspace/_topic_bar.html", context, agent=agent, status_code=status_code
    )


@router.post("/{topic_id}/draft")
async def save_draft(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    source: Annotated[str, Form(max_length=MAX_SOURCE)],
    revision: Annotated[int, Form()],
) -> Response:
    """Save the editor's text as the draft, unless someone saved since ``revision``."""
    library = container.topic_library
    try:
        saved = await library.save_draft(topic_id, source, by=agent.name, revision=revision)
    except StaleDraft as stale:
        theirs = stale.current.source or ""
        diff = source_diff(theirs, source, before_name="theirs", after_name="yours")
        return _bar(
            request,
            container,
            agent,
            stale.current,
            status_code=409,
            revision=revision,
            conflict=stale.current,
            theirs=theirs,
            diff=diff,
        )
    except InvalidTopic as invalid:
        detail = await _detail(container, topic_id)
        if detail is None:
            return refusal(NO_TOPIC, 404)
        _, warnings = await library.check(topic_id, source)
        checked = _check_context(container, source, invalid.errors, warnings)
        return _bar(
            request,
            container,
            agent,
            detail,
            status_code=422,
            revision=revision,
            message=f"Not saved: {len(invalid.errors)} error(s) to fix first.",
            check=checked,
        )
    except UnknownTopic:
        return refusal(NO_TOPIC, 404)
    message = "Draft saved." if saved.draft_source is not None else "Saved: the same as published."
    return _bar(request, container, agent, saved, message=message, saved=True)


@router.post("/{topic_id}/publish")
async def publish(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    revision: Annotated[int, Form()],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Make the saved draft live for new and waiting texters, with a note."""
    detail = await _detail(container, topic_id)
    if detail is None:
        return refusal(NO_TOPIC, 404)
    if detail.revision != revision:
        message = "Not published: the topic changed since you opened it. Reload to see it."
        return _bar(
            request, container, agent, detail, status_code=409, revision=revision, message=message
        )
    try:
        # The revision goes along: a save landing between the check above and the
        # publish (which takes the topics' lock) is refused there, not published unseen.
        version = await container.topic_library.publish(
            topic_id, by=agent.name, note=note.strip(), revision=revision
        )
    except StaleDraft as stale:
        message = "Not published: the topic changed since you opened it. Reload to see it."
        return _bar(
            request,
            container,
            agent,
            stale.current,
            status_code=409,
            revision=revision,
            message=message,
        )
    except NothingToPublish:
        message = "Nothing to publish: the saved draft is what is live."
        return _bar(request, container, agent, detail, status_code=409, message=message)
    except InvalidTopic as invalid:
        message = f"Not published: {len(invalid.errors)} error(s) to fix first."
        return _bar(request, container, agent, detail, status_code=422, message=message)
    published = await _detail(container, topic_id) or detail
    message = f"Published as version {version.version}: texters get it within seconds."
    # A demo's sandbox has the phone simulator (its routes exist only then): offer it,
    # to text what was just published as a texter would.
    simulator = getattr(request.app.state, "sandbox", None) is not None
    return _bar(
        request, container, agent, published, message=message, saved=True, simulator=simulator
    )


@router.post("/{topic_id}/diff")
async def diff(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    source: Annotated[str, Form(max_length=MAX_SOURCE)] = "",
) -> Response:
    """The editor's text against the published version: what publishing it changes."""
    detail = await _detail(container, topic_id)
    if detail is None:
        return refusal(NO_TOPIC, 404)
    published = detail.published_source or ""
    name = f"version {detail.published}" if detail.published else "not published"
    lines = source_diff(published, source, before_name=name, after_name="editor")
    context = {"topic": detail, "lines": lines}
    return render(request, "workspace/_topic_diff.html", context, agent=agent)


async def _versions(
    request: Request, container: Container, agent: Any, topic_id: str, **extra: Any
) -> Response:
    detail = await _detail(container, topic_id)
    if detail is None:
        return refusal(NO_TOPIC, 404)
    versions = await container.topic_library.versions(topic_id)
    context = {"topic": detail, "versions": versions, "revision": detail.revision, **extra}
    return render(request, "workspace/_topic_versions.html", context, agent=agent)


@router.get("/{topic_id}/versions")
async def versions(
    request: Request, container: ContainerDep, agent: AdminApi, topic_id: str
) -> Response:
    """Every published version, newest first, each with its note and a rollback."""
    return await _versions(request, container, agent, topic_id)


@router.post("/{topic_id}/rollback")
async def rollback(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    version: Annotated[int, Form()],
) -> Response:
    """Publish an earlier version again; a draft in progress is kept."""
    try:
        made = await container.topic_library.rollback(topic_id, version, by=agent.name)
    except UnknownTopic:
        return refusal(f"no version {version} of this topic", 404)
    except InvalidTopic as invalid:
        return refusal(f"version {version} no longer checks: {invalid}", 422)
    message = f"Version {version} is live again, as version {made.version}."
    return await _versions(request, container, agent, topic_id, message=message, rolled=True)
