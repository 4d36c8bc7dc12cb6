"""``ports.TopicRepository`` on SQLAlchemy: ``topics``, ``topic_versions``, ``topic_generation``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db.admin import SqlReadingUnitOfWork
from textdesk.adapters.db.dialect import lock_key
from textdesk.adapters.db.tables import topic_generation, topic_versions, topics
from textdesk.ports import TopicRow, TopicVersion

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


class SqlTopicRepositories:
    """``ports.TopicRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.topics = SqlTopics(conn)


def topic_store(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlTopicRepositories]:
    """The unit of work of the topic library and of every process's live topics."""
    return SqlReadingUnitOfWork(db, SqlTopicRepositories)
