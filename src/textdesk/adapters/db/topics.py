"""``ports.TopicRepository`` on SQLAlchemy: ``topics``, ``topic_versions``, ``topic_generation``;
``ports.TopicAssetRepository`` on ``topic_assets``; the topics' images for ``/media``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db.admin import SqlReadingUnitOfWork
from textdesk.adapters.db.dialect import lock_key
from textdesk.adapters.db.tables import topic_assets, topic_generation, topic_versions, topics
from textdesk.domain.media_keys import topic_media_parts
from textdesk.ports import StoredMedia, TopicAsset, TopicRow, TopicVersion

# The advisory lock every topic change and import takes (PostgreSQL); SQLite's writer
# lock is enough.
LOCK = "textdesk:topics"


def _row(r: Any) -> TopicRow:
    return TopicRow(
        id=r.id,
        origin=r.origin,
        created_at=r.created_at,
        file_name=r.file_name,
        file_hash=r.file_hash,
        draft=r.draft,
        draft_valid=r.draft_valid,
        draft_base=r.draft_base,
        draft_by=r.draft_by,
        draft_at=r.draft_at,
        published=r.published,
        revision=r.revision,
    )


def _version(r: Any) -> TopicVersion:
    return TopicVersion(
        topic_id=r.topic_id,
        version=r.version,
        source=r.source,
        note=r.note,
        published_by=r.published_by,
        published_at=r.published_at,
    )


class SqlTopics:
    """The topic tables on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def all(self) -> list[TopicRow]:
        result = await self._conn.execute(select(topics).order_by(topics.c.id))
        return [_row(r) for r in result]

    async def get(self, topic_id: str) -> TopicRow | None:
        found = (await self._conn.execute(select(topics).where(topics.c.id == topic_id))).first()
        return _row(found) if found is not None else None

    async def add(self, row: TopicRow) -> None:
        await self._conn.execute(insert(topics).values(asdict(row)))

    async def save(self, row: TopicRow) -> None:
        values = asdict(row)
        del values["id"]
        await self._conn.execute(update(topics).where(topics.c.id == row.id).values(values))

    async def versions(self, topic_id: str) -> list[TopicVersion]:
        result = await self._conn.execute(
            select(topic_versions)
            .where(topic_versions.c.topic_id == topic_id)
            .order_by(topic_versions.c.version.desc())
        )
        return [_version(r) for r in result]

    async def version(self, topic_id: str, version: int) -> TopicVersion | None:
        found = (
            await self._conn.execute(
                select(topic_versions).where(
                    topic_versions.c.topic_id == topic_id, topic_versions.c.version == version
                )
            )
        ).first()
        return _version(found) if found is not None else None

    async def add_version(self, version: TopicVersion) -> None:
        await self._conn.execute(insert(topic_versions).values(asdict(version)))

    async def published(self) -> list[tuple[TopicRow, TopicVersion]]:
        # The two tables share no column name: one row holds both.
        result = await self._conn.execute(
            select(topics, topic_versions)
            .join(
                topic_versions,
                (topic_versions.c.topic_id == topics.c.id)
                & (topic_versions.c.version == topics.c.published),
            )
            .order_by(topics.c.id)
        )
        return [(_row(r), _version(r)) for r in result]

    async def generation(self) -> int:
        found = await self._conn.execute(select(func.max(topic_generation.c.generation)))
        return int(found.scalar() or 0)

    async def bump_generation(self, now: datetime) -> int:
        changed = await self._conn.execute(
            update(topic_generation)
            .where(topic_generation.c.id == 1)
            .values(generation=topic_generation.c.generation + 1, changed_at=now)
            .returning(topic_generation.c.generation)
        )
        bumped = changed.scalar()
        if bumped is not None:
            return int(bumped)
        await self._conn.execute(
            insert(topic_generation).values(id=1, generation=1, changed_at=now)
        )
        return 1

    async def lock(self) -> None:
        await lock_key(self._conn, LOCK)


_LISTED = [c for c in topic_assets.c if c.name != "data"]


def _asset(r: Any, *, with_data: bool) -> TopicAsset:
    return TopicAsset(
        topic_id=r.topic_id,
        kind=r.kind,
        name=r.name,
        content_type=r.content_type,
        size=r.size,
        sha256=r.sha256,
        updated_by=r.updated_by,
        updated_at=r.updated_at,
        data=bytes(r.data) if with_data else None,
    )


class SqlTopicAssets:
    """The topics' images and scripts on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def find(
        self, topic_id: str | None = None, *, with_data: bool = False
    ) -> list[TopicAsset]:
        query = select(*(topic_assets.c if with_data else _LISTED))
        if topic_id is not None:
            query = query.where(topic_assets.c.topic_id == topic_id)
        query = query.order_by(topic_assets.c.topic_id, topic_assets.c.kind, topic_assets.c.name)
        return [_asset(r, with_data=with_data) for r in await self._conn.execute(query)]

    async def get(self, topic_id: str, kind: str, name: str) -> TopicAsset | None:
        found = (
            await self._conn.execute(select(topic_assets).where(*_key(topic_id, kind, name)))
        ).first()
        return _asset(found, with_data=True) if found is not None else None

    async def put(self, asset: TopicAsset) -> None:
        # Delete then insert: one statement on both databases, under the topics' lock.
        await self.delete(asset.topic_id, asset.kind, asset.name)
        await self._conn.execute(insert(topic_assets).values(asdict(asset)))

    async def delete(self, topic_id: str, kind: str, name: str) -> bool:
        gone = await self._conn.execute(delete(topic_assets).where(*_key(topic_id, kind, name)))
        return bool(gone.rowcount)


def _key(topic_id: str, kind: str, name: str) -> list[Any]:
    return [
        topic_assets.c.topic_id == topic_id,
        topic_assets.c.kind == kind,
        topic_assets.c.name == name,
    ]


class SqlTopicRepositories:
    """``ports.TopicRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.topics = SqlTopics(conn)
        self.assets = SqlTopicAssets(conn)


class SqlTopicMedia:
    """The topics' images as ``/media`` serves them (``topics/<id>/<name>`` keys)."""

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def load(self, key: str) -> StoredMedia | None:
        parts = topic_media_parts(key)
        if parts is None:
            return None
        async with self._db.connect() as conn:
            found = await SqlTopicAssets(conn).get(parts[0], "image", parts[1])
        if found is None or found.data is None:
            return None
        return StoredMedia(key, found.content_type, found.data)


def topic_store(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlTopicRepositories]:
    """The unit of work of the topic library and of every process's live topics."""
    return SqlReadingUnitOfWork(db, SqlTopicRepositories)
