"""Shapes of the topics REST API: sources in, drafts and versions out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from textdesk.domain.media_keys import topic_media_key
from textdesk.ports import TopicAsset
from textdesk.web.api.fields import CLEAN

# A topic file is a few kilobytes (the demo's largest, 2.4 kB).  The validator runs
# PyYAML's pure-Python parser, about 100 kB a second: a larger source is refused
# before it is parsed, so that no save holds the process for long.
MAX_SOURCE = 64_000
MAX_NOTE = 500

EXAMPLE = """\
title: Opening hours
keywords: [hours, open]
nodes:
  - type: message
    text: We are open 8-18, Monday to Friday.
"""


class TopicSummary(BaseModel):
    """A topic as the list shows it."""

    id: str = Field(examples=["opening_hours"])
    title: str
    keywords: list[str]
    origin: str = Field(description="where it came from: file, designer or api")
    published_version: int | None = Field(description="the live version; null: not served")
    has_draft: bool = Field(description="a draft that differs from the published version")
    draft_valid: bool | None
    edited_by: str | None = Field(description="who saved the draft, else who published")
    edited_at: datetime | None
    revision: int = Field(description="bumped by every change; send it back as If-Match")


class SourceProblem(BaseModel):
    """An error or warning in a source: where a designer finds it."""

    line: int = Field(description="1-based line of the source")
    field: str = Field(description="the field's path, e.g. nodes[2].prompt (may be empty)")
    message: str


class AssetPublic(BaseModel):
    """One of a topic's images or conversation scripts."""

    name: str
    key: str | None = Field(
        default=None, description="an image's media key, as an image node names it"
    )
    content_type: str
    size: int = Field(description="bytes")
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, asset: TopicAsset) -> AssetPublic:
        image = asset.kind == "image"
        return cls(
            name=asset.name,
            key=topic_media_key(asset.topic_id, asset.name) if image else None,
            content_type=asset.content_type,
            size=asset.size,
            updated_by=asset.updated_by,
            updated_at=asset.updated_at,
        )


class TopicPublic(BaseModel):
    """One topic: the draft being edited and the version being served."""

    id: str
    origin: str
    revision: int = Field(description="also the ETag; send it back as If-Match")
    published_version: int | None
    published_source: str | None
    published_by: str | None
    published_at: datetime | None
    draft_source: str | None = Field(description="null when there is no draft")
    draft_base: int | None = Field(description="the published version the draft started from")
    draft_by: str | None
    draft_at: datetime | None
    errors: list[SourceProblem] = Field(description="what stops the draft being published")
    warnings: list[SourceProblem] = Field(description="e.g. prompts that cost many segments")
    images: list[AssetPublic] = Field(
        default_factory=list, description="its images (GET /api/v1/topics/{id} only)"
    )
    scripts: list[AssetPublic] = Field(
        default_factory=list, description="its conversation scripts (GET only)"
    )


class TopicSource(BaseModel):
    """A draft to save: the topic's whole YAML source."""

    source: Annotated[str, Field(min_length=1, max_length=MAX_SOURCE), CLEAN] = Field(
        examples=[EXAMPLE]
    )


class PublishRequest(BaseModel):
    note: Annotated[str, Field(max_length=MAX_NOTE), CLEAN] = ""


class RollbackRequest(BaseModel):
    version: int = Field(ge=1, le=2**31 - 1, description="an earlier version to serve again")


class VersionPublic(BaseModel):
    """A published version (the source only in the versions list)."""

    version: int
    note: str
    published_by: str
    published_at: datetime


class VersionWithSource(VersionPublic):
    source: str


class InvalidSource(BaseModel):
    """422: the source's errors; nothing was saved or published."""

    detail: list[SourceProblem]


class ChangedSince(BaseModel):
    """412: the topic changed since the revision in If-Match; nothing was saved."""

    detail: str = Field(description="who changed it and what to do")
    current: TopicPublic | None = Field(description="the topic now; null if it does not exist")
