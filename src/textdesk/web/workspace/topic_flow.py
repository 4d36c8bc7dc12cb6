"""The designer's flow view and node forms: the editor's text drawn, and edited.

The page posts the YAML it holds; the server draws it (``topic_tools.flow_view``:
boxes, arrows, the validator's findings and the SMS costs on their node) and makes
the flow view's and the forms' edits on it (``domain.topics.edits``), answering the
new YAML to put in the editor.  Nothing is saved here: the draft is saved as the
typed one is, with the save button.  An edit names the revision the page started
from, and is refused (409) when someone saved the topic since, as a save would be,
so nobody builds on a text that is about to be refused; a refused edit (422, 409)
says why and the page keeps its text.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from textdesk.bootstrap import Container
from textdesk.domain.topics.edits import (
    Edit,
    EditError,
    add_node,
    connect,
    move_node,
    remove_node,
)
from textdesk.topic_tools.flow_view import flow_view
from textdesk.topic_tools.node_form import FIELD_PREFIX, form_edit, node_form
from textdesk.topic_tools.prompt_costs import prompt_costs
from textdesk.topics.library import UnknownTopic
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace.admins import ActingAdmin
from textdesk.web.workspace.render import NO_STORE, refusal, render
from textdesk.web.workspace.topic_editor import MAX_SOURCE, NO_TOPIC

router = APIRouter()
NO_PARSE = "The YAML does not read as a topic yet: the flow shows the last text that did."


def _refused(message: str, status_code: int) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status_code, headers=NO_STORE)


async def _view(container: Container, topic_id: str, source: str) -> dict[str, Any]:
    errors, warnings = await container.topic_library.check(topic_id, source)
    more_word = container.topics.engine.topics.settings.more_word
    view = flow_view(source, topic_id, errors, warnings, prompt_costs(source, more_word=more_word))
    if view is None:
        return {"view": None, "message": NO_PARSE}
    return {"view": view.as_json(), "message": None}


@router.post("/{topic_id}/flow")
async def flow(
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    source: Annotated[str, Form(max_length=MAX_SOURCE)] = "",
) -> Response:
    """The editor's text as boxes and arrows, with its errors and costs on them."""
    return JSONResponse(await _view(container, topic_id, source), headers=NO_STORE)


def _int(form: Any, name: str) -> int:
    value = form.get(name)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise EditError(f"{name}: a node's position, not {value!r}") from None


def _field(form: Any) -> tuple[str | int, ...]:
    try:
        path = json.loads(str(form.get("field", "")))
    except json.JSONDecodeError:
        path = None
    if not isinstance(path, list) or not path or not all(isinstance(p, str | int) for p in path):
        raise EditError('field: a JSON list such as ["goto"] or ["branches", 0, "goto"]')
    return tuple(path)


def _edit(op: str, source: str, form: Any) -> Edit:
    """The edit ``op`` asks for, made on ``source`` (``EditError`` says why not)."""
    if op == "add":
        at = form.get("at")
        return add_node(source, str(form.get("node_type", "")), at=_int(form, "at") if at else None)
    if op == "remove":
        return remove_node(source, _int(form, "index"), force=form.get("force") == "1")
    if op == "move":
        return move_node(source, _int(form, "index"), _int(form, "to"))
    if op == "connect":
        return connect(source, _int(form, "index"), _field(form), _int(form, "target"))
    if op == "form":
        values = {
            str(k)[len(FIELD_PREFIX) :]: str(v)
            for k, v in form.multi_items()
            if str(k).startswith(FIELD_PREFIX)
        }
        return form_edit(source, _int(form, "index"), values)
    raise EditError(f"no edit {op!r} (add, remove, move, connect, form)")


def _said(edit: Edit) -> list[str]:
    said = []
    if edit.dropped_comments:
        listed = "; ".join(edit.dropped_comments)
        count = len(edit.dropped_comments)
        said.append(f"This change dropped {count} comment{'s' if count != 1 else ''}: {listed}")
    for position, name in edit.named:
        said.append(f"Node {position + 1} is now named {name!r}, so arrows keep finding it.")
    if edit.dangling:
        where = ", ".join(".".join(str(p) for p in r.loc) + f" ({r.target})" for r in edit.dangling)
        said.append(f"Pointing at no node now: {where}. Connect them again.")
    return said


@router.post("/{topic_id}/edit")
async def edit(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    source: Annotated[str, Form(max_length=MAX_SOURCE)],
    revision: Annotated[int, Form()],
    op: Annotated[str, Form(max_length=20)],
) -> Response:
    """One change from the flow view or a node's form, made on the editor's text.

    Answers the new text, its flow and what to say of the change (comments it
    dropped, nodes it named); 422 with the reason when the change cannot be made,
    409 when the topic was saved by someone since ``revision``.
    """
    try:
        detail = await container.topic_library.get(topic_id)
    except UnknownTopic:
        return _refused(NO_TOPIC, 404)
    if detail.revision != revision:
        who = detail.draft_by or "someone"
        return _refused(
            f"Not changed: {who} saved this topic since you opened it. Save your text to see "
            "their change beside yours, or reload to start from theirs.",
            409,
        )
    form = await request.form()
    try:
        made = _edit(op, source, form)
    except EditError as exc:
        return _refused(f"Not changed: {exc}", 422)
    except yaml.YAMLError:
        return _refused("Not changed: the YAML does not read; fix it in the YAML view first.", 422)
    answer = {
        "source": made.source,
        "said": _said(made),
        **await _view(container, topic_id, made.source),
    }
    return JSONResponse(answer, headers=NO_STORE)


@router.post("/{topic_id}/node-form")
async def node_form_fragment(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    index: Annotated[int, Form()],
    source: Annotated[str, Form(max_length=MAX_SOURCE)] = "",
) -> Response:
    """The form of one node of the editor's text, its errors beside their fields."""
    errors, _ = await container.topic_library.check(topic_id, source)
    view = flow_view(source, topic_id, errors)
    by_field: dict[str, list[str]] = {}
    pinned = view.nodes[index].errors if view and 0 <= index < len(view.nodes) else []
    loose = []
    for finding in pinned:
        if finding.key:
            by_field.setdefault(finding.key, []).append(finding.message)
        else:
            loose.append(finding)
    try:
        form = node_form(source, index, by_field)
    except (EditError, yaml.YAMLError) as exc:
        message = str(exc) if isinstance(exc, EditError) else "The YAML does not read."
        return refusal(f"No form: {message}", 422)
    context = {"form": form, "loose": loose, "node_count": len(view.nodes) if view else 0}
    return render(request, "workspace/_topic_node_form.html", context, agent=agent)
