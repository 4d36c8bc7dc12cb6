"""Fakes of the topic ports (``ports.TopicRepositories``), on in-memory tables."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from textdesk.ports import TopicAsset, TopicRow, TopicVersion
from textdesk.testing.admin import FakeReadingUnitOfWork


@dataclass
class TopicTables:
    """What the topic fakes store; a test reads and arranges it directly."""

    topics: dict[str, TopicRow] = field(default_factory=dict)
    versions: list[TopicVersion] = field(default_factory=list)
    generation: int = 0
    assets: dict[tuple[str, str, str], TopicAsset] = field(default_factory=dict)
    locks: int = 0  # changes and imports that took the topics' lock


class FakeTopics:
    """``ports.TopicRepository`` on ``TopicTables``."""

    def __init__(self, tables: TopicTables) -> None:
        self._t = tables

    async def all(self) -> list[TopicRow]:
        return [self._t.topics[k] for k in sorted(self._t.topics)]

    async def get(self, topic_id: str) -> TopicRow | None:
        return self._t.topics.get(topic_id)

    async def add(self, row: TopicRow) -> None:
        assert row.id not in self._t.topics, f"topic {row.id} exists"
        self._t.topics[row.id] = row

    async def save(self, row: TopicRow) -> None:
        assert row.id in self._t.topics, f"no topic {row.id}"
        self._t.topics[row.id] = row

    async def versions(self, topic_id: str) -> list[TopicVersion]:
        mine = [v for v in self._t.versions if v.topic_id == topic_id]
        return sorted(mine, key=lambda v: -v.version)

    async def version(self, topic_id: str, version: int) -> TopicVersion | None:
        return next(
            (v for v in self._t.versions if (v.topic_id, v.version) == (topic_id, version)), None
        )

    async def add_version(self, version: TopicVersion) -> None:
        assert await self.version(version.topic_id, version.version) is None
        self._t.versions.append(version)

    async def published(self) -> list[tuple[TopicRow, TopicVersion]]:
        found = []
        for row in await self.all():
            if row.published is not None:
                version = await self.version(row.id, row.published)
                assert version is not None
                found.append((row, version))
        return found

    async def generation(self) -> int:
        return self._t.generation

    async def bump_generation(self, now: datetime) -> int:
        self._t.generation += 1
        return self._t.generation

    async def lock(self) -> None:
        self._t.locks += 1


class FakeTopicAssets:
    """``ports.TopicAssetRepository`` on ``TopicTables.assets``."""

    def __init__(self, tables: TopicTables) -> None:
        self._t = tables

    async def find(
        self, topic_id: str | None = None, *, with_data: bool = False
    ) -> list[TopicAsset]:
        return [
            a if with_data else replace(a, data=None)
            for key, a in sorted(self._t.assets.items())
            if topic_id is None or key[0] == topic_id
        ]

    async def get(self, topic_id: str, kind: str, name: str) -> TopicAsset | None:
        return self._t.assets.get((topic_id, kind, name))

    async def put(self, asset: TopicAsset) -> None:
        assert asset.data is not None
        assert asset.topic_id in self._t.topics, f"no topic {asset.topic_id}"
        self._t.assets[(asset.topic_id, asset.kind, asset.name)] = asset

    async def delete(self, topic_id: str, kind: str, name: str) -> bool:
        return self._t.assets.pop((topic_id, kind, name), None) is not None


class FakeTopicRepositories:
    """``ports.TopicRepositories`` on ``TopicTables``."""

    def __init__(self, tables: TopicTables) -> None:
        self.topics = FakeTopics(tables)
        self.assets = FakeTopicAssets(tables)


def fake_topics(
    tables: TopicTables | None = None,
) -> FakeReadingUnitOfWork[TopicTables, FakeTopicRepositories]:
    """The topics' unit of work, in memory (new, empty tables by default)."""
    return FakeReadingUnitOfWork(tables or TopicTables(), FakeTopicRepositories)
