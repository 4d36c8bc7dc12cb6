"""A topic's images and scripts in the designer, and running the scripts on the draft.

Every answer is the assets pane afresh (``_topic_assets.html``), with a message; a
refusal answers with the same pane and 422 (``designer.js`` swaps it in), so the
admin sees why and what is stored is unchanged.  Uploads are read one byte past the
size cap, then checked by ``topics/assets.py`` like an inbound MMS photo.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from textdesk.bootstrap import Container
from textdesk.topics.assets import MAX_SCRIPT, AssetListing, AssetRefused, Kind, script_name
from textdesk.topics.library import UnknownTopic
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace.admins import ActingAdmin, AdminApi
from textdesk.web.workspace.render import refusal, render
from textdesk.web.workspace.topic_editor import MAX_SOURCE

router = APIRouter()
NO_TOPIC = "no such topic"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


async def _pane(
    request: Request,
    container: Container,
    agent: Any,
    topic_id: str,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    try:
        listing = await container.topic_assets.listing(topic_id)
    except UnknownTopic:
        return refusal(NO_TOPIC, 404)
    context = {
        "topic_id": topic_id,
        "listing": listing,
        "key_of": AssetListing.key,
        "media_url": container.signer.url_for,
        "size": _size,
        "max_script": MAX_SCRIPT,
        **extra,
    }
    return render(
        request, "workspace/_topic_assets.html", context, agent=agent, status_code=status_code
    )


@router.get("/{topic_id}/assets")
async def assets(
    request: Request, container: ContainerDep, agent: AdminApi, topic_id: str
) -> Response:
    """The topic's images (thumbnail, key, size) and scripts."""
    return await _pane(request, container, agent, topic_id)


@router.post("/{topic_id}/images")
async def upload_image(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Store an uploaded image under its file's name; refused (422) with why."""
    if file is None or not file.filename:
        return await _pane(
            request, container, agent, topic_id, status_code=422, bad="Choose an image."
        )
    data = await file.read(container.topic_assets.max_bytes + 1)
    name = file.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    try:
        stored = await container.topic_assets.upload_image(topic_id, name, data, by=agent.name)
    except AssetRefused as refused:
        return await _pane(request, container, agent, topic_id, status_code=422, bad=str(refused))
    except UnknownTopic:
        return refusal(NO_TOPIC, 404)
    key = AssetListing.key(stored)
    message = f"Stored {name}: name it in an image node as media: {key}"
    return await _pane(request, container, agent, topic_id, ok=message)


@router.post("/{topic_id}/images/{name}/delete")
async def delete_image(
    request: Request, container: ContainerDep, agent: ActingAdmin, topic_id: str, name: str
) -> Response:
    """Delete an image no topic uses."""
    return await _delete(request, container, agent, topic_id, "image", name)


@router.post("/{topic_id}/scripts/{name}/delete")
async def delete_script(
    request: Request, container: ContainerDep, agent: ActingAdmin, topic_id: str, name: str
) -> Response:
    return await _delete(request, container, agent, topic_id, "script", name)


async def _delete(
    request: Request, container: Container, agent: Any, topic_id: str, kind: Kind, name: str
) -> Response:
    try:
        await container.topic_assets.delete(topic_id, kind, name, by=agent.name)
    except AssetRefused as refused:
        return await _pane(request, container, agent, topic_id, status_code=422, bad=str(refused))
    except UnknownTopic:
        return await _pane(
            request, container, agent, topic_id, status_code=404, bad=f"No {kind} {name!r}."
        )
    return await _pane(request, container, agent, topic_id, ok=f"Deleted {name}.")


@router.get("/{topic_id}/scripts/{name}")
async def edit_script(
    request: Request, container: ContainerDep, agent: AdminApi, topic_id: str, name: str
) -> Response:
    """The pane with a stored script in the script form, to change it."""
    try:
        text = await container.topic_assets.script(topic_id, name)
    except UnknownTopic:
        return refusal(f"no script {name!r}", 404)
    return await _pane(request, container, agent, topic_id, script_name=name, script_text=text)


@router.post("/{topic_id}/scripts")
async def save_script(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    name: Annotated[str, Form(max_length=120)] = "",
    text: Annotated[str, Form(max_length=MAX_SCRIPT + 1)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Save a script typed in the form, or uploaded as a file (its name by default)."""
    if file is not None and file.filename:
        raw = await file.read(MAX_SCRIPT * 4 + 1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = "\x00"  # refused by the check, as not UTF-8 text
        name = name.strip() or script_name(file.filename.rsplit("/", 1)[-1])
    name = script_name(name)
    try:
        await container.topic_assets.save_script(topic_id, name, text, by=agent.name)
    except AssetRefused as refused:
        return await _pane(
            request,
            container,
            agent,
            topic_id,
            status_code=422,
            bad=str(refused),
            bad_lines=refused.errors,
            script_name=name,
            script_text=text if "\x00" not in text else "",
        )
    except UnknownTopic:
        return refusal(NO_TOPIC, 404)
    return await _pane(request, container, agent, topic_id, ok=f"Saved script {name}.")


@router.post("/{topic_id}/scripts/run")
async def run_scripts(
    request: Request,
    container: ContainerDep,
    agent: ActingAdmin,
    topic_id: str,
    source: Annotated[str, Form(max_length=MAX_SOURCE)] = "",
) -> Response:
    """Every script of the topic played on the editor's text: each step's pass or fail."""
    try:
        run = await container.topic_assets.run_scripts(topic_id, source)
    except UnknownTopic:
        return refusal(NO_TOPIC, 404)
    context = {"run": run, "media_url": container.signer.url_for}
    return render(request, "workspace/_topic_script_run.html", context, agent=agent)
