"""REST API: a topic's images and conversation scripts, sent as raw bodies.

``PUT /api/v1/topics/{id}/media/{name}`` stores the body as an image (checked like an
inbound MMS photo); ``PUT …/scripts/{name}`` stores it as a script (checked like
``textdesk topics test`` reads one).  The body is read one byte past its cap, so an
oversized upload is refused without being held whole.  ``GET /api/v1/topics/{id}``
lists both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from textdesk.ports import TopicAsset
from textdesk.topics.assets import (
    MAX_SCRIPT,
    AssetInUse,
    AssetRefused,
)
from textdesk.topics.library import UnknownTopic
from textdesk.web.api.topic_schemas import AssetPublic
from textdesk.web.api.topics import MISSING, TopicId
from textdesk.web.deps import ApiClient, TopicAssetsDep

router = APIRouter(prefix="/api/v1/topics", tags=["topics"])

ImageName = Annotated[
    str,
    Path(
        alias="name",
        max_length=100,
        description="the image's file name (letters, digits, _ . -, ending .png, .jpg, "
        ".gif or .webp); its key is topics/{id}/{name}",
        examples=["router.png"],
    ),
]
ScriptName = Annotated[
    str,
    Path(
        alias="name",
        max_length=80,
        description="the script's name (letters, digits, _ . -; no .yaml, no double underscore)",
        examples=["happy_path"],
    ),
]
REFUSED = {"description": "not stored: why (not an image, too large, a script's errors)"}
IN_USE = {"description": "an image a topic uses is neither replaced nor deleted"}


def _binary(*types: str) -> dict[str, Any]:
    schema = {"type": "string", "format": "binary"}
    return {"requestBody": {"required": True, "content": {t: {"schema": schema} for t in types}}}


async def _body(request: Request, cap: int) -> bytes:
    """The request's body, at most ``cap`` + 1 bytes of it (one past: refused by size)."""
    kept = bytearray()
    async for chunk in request.stream():
        kept += chunk
        if len(kept) > cap:
            break
    return bytes(kept[: cap + 1])


def _refused(exc: AssetRefused) -> HTTPException:
    code = status.HTTP_409_CONFLICT if isinstance(exc, AssetInUse) else 422
    return HTTPException(code, {"message": str(exc), "errors": exc.errors})


@contextmanager
def _answered(topic_id: str) -> Iterator[None]:
    """A store's failures as the PUTs answer them: no topic 404, refused 409 or 422."""
    try:
        yield
    except UnknownTopic as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no topic {topic_id}") from exc
    except AssetRefused as exc:
        raise _refused(exc) from exc


def _created_if_new(response: Response, name: str, earlier: Sequence[TopicAsset]) -> None:
    """201 for a name the topic did not have before this PUT; a replaced one keeps 200."""
    if all(a.name != name for a in earlier):
        response.status_code = status.HTTP_201_CREATED


@router.put(
    "/{id}/media/{name}",
    response_model=AssetPublic,
    responses={404: MISSING, 409: IN_USE, 422: REFUSED},
    openapi_extra=_binary("image/png", "image/jpeg", "image/gif", "image/webp"),
)
async def put_image(
    topic_id: TopicId,
    name: ImageName,
    request: Request,
    client: ApiClient,
    assets: TopicAssetsDep,
    response: Response,
) -> AssetPublic:
    """Store the body as the topic's image ``name`` (201 when new)."""
    data = await _body(request, assets.max_bytes)
    with _answered(topic_id):
        listing = await assets.listing(topic_id)
        stored = await assets.upload_image(topic_id, name, data, by=client)
    _created_if_new(response, name, listing.images)
    return AssetPublic.of(stored)


@router.put(
    "/{id}/scripts/{name}",
    response_model=AssetPublic,
    responses={404: MISSING, 422: REFUSED},
    openapi_extra=_binary("application/yaml", "text/yaml", "text/plain"),
)
async def put_script(
    topic_id: TopicId,
    name: ScriptName,
    request: Request,
    client: ApiClient,
    assets: TopicAssetsDep,
    response: Response,
) -> AssetPublic:
    """Store the body (UTF-8 YAML) as the topic's script ``name`` (201 when new); a
    script with errors is refused (422) with each ``file:line: message``."""
    data = await _body(request, MAX_SCRIPT * 4)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"  # refused by the check, as not UTF-8 text
    with _answered(topic_id):
        listing = await assets.listing(topic_id)
        stored = await assets.save_script(topic_id, name, text, by=client)
    _created_if_new(response, name, listing.scripts)
    return AssetPublic.of(stored)


@router.delete("/{id}/media/{name}", status_code=204, responses={404: MISSING, 409: IN_USE})
async def delete_image(
    topic_id: TopicId, name: ImageName, client: ApiClient, assets: TopicAssetsDep
) -> Response:
    """Delete an image no topic's draft or live version uses."""
    try:
        await assets.delete(topic_id, "image", name, by=client)
    except UnknownTopic as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no image {name}") from exc
    except AssetRefused as exc:
        raise _refused(exc) from exc
    return Response(status_code=204)


@router.delete("/{id}/scripts/{name}", status_code=204, responses={404: MISSING})
async def delete_script(
    topic_id: TopicId, name: ScriptName, client: ApiClient, assets: TopicAssetsDep
) -> Response:
    try:
        await assets.delete(topic_id, "script", name, by=client)
    except UnknownTopic as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no script {name}") from exc
    return Response(status_code=204)
