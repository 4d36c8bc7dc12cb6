"""REST API: topics, their drafts, publishing, versions and rollbacks.

The designer's operations for scripts and CI.  A topic's ``revision`` is its ETag:
``PUT`` (and ``POST …/publish``) with ``If-Match`` set to the revision the editor
started from is refused with 412, showing what is there now, when someone changed the
topic since; without ``If-Match`` the last writer wins.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Response, status
from fastapi.responses import JSONResponse

from textdesk.domain.topics.nodes import ID_PATTERN
from textdesk.topic_tools.topic_files import SourceError
from textdesk.topics.library import (
    InvalidTopic,
    NothingToPublish,
    StaleDraft,
    TopicDetail,
    UnknownTopic,
)
from textdesk.web.api.if_match import ANY, BadIfMatch, Precondition, changed_since, if_match
from textdesk.web.api.topic_schemas import (
    AssetPublic,
    ChangedSince,
    InvalidSource,
    PublishRequest,
    RollbackRequest,
    SourceProblem,
    TopicPublic,
    TopicSource,
    TopicSummary,
    VersionPublic,
    VersionWithSource,
)
from textdesk.web.deps import ApiClient, TopicAssetsDep, TopicsDep

router = APIRouter(prefix="/api/v1/topics", tags=["topics"])

TopicId = Annotated[
    str,
    Path(
        alias="id",
        max_length=100,
        pattern=ID_PATTERN,
        description="the topic's id: its file's name without .yaml",
        examples=["opening_hours"],
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='the revision the edit started from: "3" (the ETag), 3, or "0" to '
        "create only; absent, the last writer wins",
    ),
]
INVALID = {"model": InvalidSource, "description": "the source's errors, by line and field"}
STALE = {"model": ChangedSince, "description": "changed since the If-Match revision"}
MISSING = {"description": "no such topic"}


def _problems(errors: list[SourceError]) -> list[SourceProblem]:
    return [SourceProblem(line=e.line, field=e.field, message=e.message) for e in errors]


def _public(topic: TopicDetail) -> TopicPublic:
    return TopicPublic(
        id=topic.id,
        origin=topic.origin,
        revision=topic.revision,
        published_version=topic.published,
        published_source=topic.published_source,
        published_by=topic.published_by,
        published_at=topic.published_at,
        draft_source=topic.draft_source,
        draft_base=topic.draft_base,
        draft_by=topic.draft_by,
        draft_at=topic.draft_at,
        errors=_problems(topic.errors),
        warnings=_problems(topic.warnings),
    )


def _missing(topic_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no topic {topic_id}")


def _invalid(exc: InvalidTopic) -> HTTPException:
    detail = [p.model_dump() for p in _problems(exc.errors)]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def _stale(message: str, current: TopicDetail | None) -> JSONResponse:
    body = ChangedSince(detail=message, current=_public(current) if current else None)
    return JSONResponse(body.model_dump(mode="json"), status.HTTP_412_PRECONDITION_FAILED)


def _precondition(header: str | None) -> Precondition:
    try:
        return if_match(header)
    except BadIfMatch as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc


def _etag(response: Response, topic: TopicDetail) -> None:
    response.headers["ETag"] = f'"{topic.revision}"'


@router.get("", response_model=list[TopicSummary])
async def list_topics(client: ApiClient, topics: TopicsDep) -> list[TopicSummary]:
    """Every topic, by id: published or not, with or without a draft."""
    return [
        TopicSummary(
            id=t.id,
            title=t.title,
            keywords=list(t.keywords),
            origin=t.origin,
            published_version=t.published,
            has_draft=t.draft,
            draft_valid=t.draft_valid,
            edited_by=t.edited_by,
            edited_at=t.edited_at,
            revision=t.revision,
        )
        for t in await topics.summaries()
    ]


@router.get("/{id}", response_model=TopicPublic, responses={404: MISSING})
async def get_topic(
    topic_id: TopicId,
    client: ApiClient,
    topics: TopicsDep,
    assets: TopicAssetsDep,
    response: Response,
) -> TopicPublic:
    """The draft and the published source, the topic's images and scripts; the
    ``ETag`` is the revision."""
    try:
        topic = await topics.get(topic_id)
        listing = await assets.listing(topic_id)
    except UnknownTopic as exc:
        raise _missing(topic_id) from exc
    _etag(response, topic)
    public = _public(topic)
    public.images = [AssetPublic.of(a) for a in listing.images]
    public.scripts = [AssetPublic.of(a) for a in listing.scripts]
    return public


@router.put(
    "/{id}",
    response_model=TopicPublic,
    responses={
        201: {"model": TopicPublic, "description": "created"},
        400: {"description": "an If-Match that names no revision"},
        412: STALE,
        422: INVALID,
    },
)
async def save_topic(
    topic_id: TopicId,
    body: TopicSource,
    client: ApiClient,
    topics: TopicsDep,
    response: Response,
    if_match_header: IfMatch = None,
) -> TopicPublic | JSONResponse:
    """Save a draft (a new topic if there is none); it serves nobody until published.

    An invalid source, or one whose ``id`` names another topic, is refused (422) and
    nothing is saved.
    """
    expected = _precondition(if_match_header)
    try:
        if expected is ANY:
            # "If-Match: *": only over a topic that exists (topics are never deleted).
            await topics.get(topic_id)
        revision = None if expected is ANY else expected
        topic = await topics.save_draft(
            topic_id, body.source, by=client, origin="api", revision=revision
        )
    except InvalidTopic as exc:
        raise _invalid(exc) from exc
    except StaleDraft as exc:
        return _stale(changed_since(exc.current, expected), exc.current)
    except UnknownTopic:
        return _stale(
            f"there is no topic {topic_id} to match If-Match {if_match_header}; send "
            'If-Match: "0", or none, to create it',
            None,
        )
    # A topic's revision counts its changes: 1 is the save that created it.
    if topic.revision == 1:
        response.status_code = status.HTTP_201_CREATED
    _etag(response, topic)
    return _public(topic)


@router.post(
    "/{id}/publish",
    response_model=VersionPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        404: MISSING,
        409: {"description": "no draft to publish"},
        412: STALE,
        422: INVALID,
    },
)
async def publish_topic(
    topic_id: TopicId,
    client: ApiClient,
    topics: TopicsDep,
    body: PublishRequest | None = None,
    if_match_header: IfMatch = None,
) -> VersionPublic | JSONResponse:
    """Serve the draft as a new version, in every process within a couple of seconds.

    With ``If-Match``, a draft changed since that revision is not published (412).
    """
    expected = _precondition(if_match_header)
    try:
        version = await topics.publish(
            topic_id,
            by=client,
            note=body.note if body else "",
            revision=None if expected is ANY else expected,
        )
    except UnknownTopic as exc:
        raise _missing(topic_id) from exc
    except NothingToPublish as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except InvalidTopic as exc:
        raise _invalid(exc) from exc
    except StaleDraft as exc:
        return _stale(changed_since(exc.current, expected), exc.current)
    return VersionPublic(
        version=version.version,
        note=version.note,
        published_by=version.published_by,
        published_at=version.published_at,
    )


@router.get("/{id}/versions", response_model=list[VersionWithSource], responses={404: MISSING})
async def list_versions(
    topic_id: TopicId, client: ApiClient, topics: TopicsDep
) -> list[VersionWithSource]:
    """Every published version, newest first, each source as it was published."""
    try:
        versions = await topics.versions(topic_id)
    except UnknownTopic as exc:
        raise _missing(topic_id) from exc
    return [
        VersionWithSource(
            version=v.version,
            note=v.note,
            published_by=v.published_by,
            published_at=v.published_at,
            source=v.source,
        )
        for v in versions
    ]


@router.post(
    "/{id}/rollback",
    response_model=VersionPublic,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "no such topic or version"}, 422: INVALID},
)
async def rollback_topic(
    topic_id: TopicId, body: RollbackRequest, client: ApiClient, topics: TopicsDep
) -> VersionPublic:
    """Serve an earlier version again, as a new version; a draft in progress is kept."""
    try:
        version = await topics.rollback(topic_id, body.version, by=client)
    except UnknownTopic as exc:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no topic {topic_id} with a version {body.version}"
        ) from exc
    except InvalidTopic as exc:
        raise _invalid(exc) from exc
    return VersionPublic(
        version=version.version,
        note=version.note,
        published_by=version.published_by,
        published_at=version.published_at,
    )


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: MISSING})
async def unpublish_topic(topic_id: TopicId, client: ApiClient, topics: TopicsDep) -> Response:
    """Stop serving the topic; its versions and draft stay, to publish again."""
    try:
        await topics.unpublish(topic_id, by=client)
    except UnknownTopic as exc:
        raise _missing(topic_id) from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)
