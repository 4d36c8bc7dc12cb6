"""The published topics this process serves, kept in step with every other process.

Each process holds the engine of the published set and asks the database, every
second or when woken, whether the set changed (``topic_generation``: one indexed row);
when it did, it reads the published sources and builds a new engine.  So a publish
reaches new and waiting texters in every process within a couple of seconds, on
SQLite and PostgreSQL alike, with no restart.

A conversation in the middle of a topic finishes on the version it started
(``ConversationState.versions``): when that is no longer the published one, the
turn gets an engine whose set has the version it started, read once and kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from textdesk.domain.agent.engine import Engine
from textdesk.domain.topics.schema import Topic, TopicSet
from textdesk.ports import ReadingUnitOfWork, TopicRepositories
from textdesk.topic_tools.topic_files import Document, read_documents
from textdesk.topics.library import document_name, media_check, topic_of

log = logging.getLogger(__name__)

# Engines for conversations still on an older version: few at a time, each cheap.
PINNED_ENGINES = 32
PINNED_TOPICS = 256


class FixedTopics:
    """One engine for good (``topics test``, unit tests): no versions, no reloads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def engine_for(self, state: Mapping[str, Any] | None) -> Engine:
        return self.engine


class LiveTopics:
    """``ports.Engines`` on the database's published topics."""

    def __init__(
        self,
        uow: ReadingUnitOfWork[TopicRepositories],
        *,
        idle_close: timedelta,
        media_exists: Callable[[str], bool] | None = None,
    ) -> None:
        self._uow = uow
        self._idle_close = idle_close
        self._media_exists = media_exists
        self._generation: int | None = None
        self.engine = Engine(TopicSet(), idle_close=idle_close)
        self._topics: OrderedDict[tuple[str, int], Topic | None] = OrderedDict()
        self._pinned: OrderedDict[tuple[int, tuple[tuple[str, int], ...]], Engine] = OrderedDict()

    @property
    def generation(self) -> int | None:
        """The published set's generation this process serves (None before loading)."""
        return self._generation

    async def refresh(self) -> int:
        """Load the published set if it changed since the last look; 1 if it did."""
        async with self._uow.read() as repos:
            generation = await repos.topics.generation()
            if generation == self._generation:
                return 0
            published = await repos.topics.published()
            assets = await repos.assets.find()
        documents = [Document(document_name(row.id, row), v.source) for row, v in published]
        # The whole set is parsed: CPU off the event loop, which goes on answering.
        topic_set, errors, _ = await asyncio.to_thread(
            read_documents,
            documents,
            media_exists=media_check(assets, self._media_exists),
            strict=False,
        )
        for error in errors:
            # Each version was valid when published; another's unpublishing may have
            # broken a reference since.  The rest serves; the operator is told.
            log.error("published topics: %s", error)
        assert topic_set is not None  # not strict: the usable topics, whatever else
        topic_set.versions = {row.id: v.version for row, v in published}
        self.engine = Engine(topic_set, idle_close=self._idle_close)
        self._pinned.clear()
        self._generation = generation
        log.info("serving %d published topics (generation %d)", len(topic_set.topics), generation)
        return 1

    async def engine_for(self, state: Mapping[str, Any] | None) -> Engine:
        """The engine for a conversation in ``state``: the current one, unless its
        running topic or a caller is on a version that is no longer published."""
        engine = self.engine
        if not state or not state.get("versions"):
            return engine
        running = {state.get("topic_id"), *(f.get("topic_id") for f in state.get("stack") or [])}
        current = engine.topics.versions
        pins = tuple(
            sorted(
                (str(topic_id), int(version))
                for topic_id, version in dict(state["versions"]).items()
                if topic_id in running and current.get(topic_id) != version
            )
        )
        if not pins:
            return engine
        key = (self._generation or 0, pins)
        pinned = self._pinned.get(key)
        if pinned is None:
            pinned = await self._pinned_engine(engine, pins)
            self._pinned[key] = pinned
            while len(self._pinned) > PINNED_ENGINES:
                self._pinned.popitem(last=False)
        return pinned

    async def _pinned_engine(self, engine: Engine, pins: tuple[tuple[str, int], ...]) -> Engine:
        current = engine.topics
        older: dict[str, Topic] = {}
        versions = dict(current.versions)
        for topic_id, version in pins:
            topic = await self._topic(topic_id, version)
            if topic is not None:
                older[topic_id] = topic
                versions[topic_id] = version
        if not older:
            return engine
        topics = [older.pop(t.id, t) for t in current.topics] + list(older.values())
        return Engine(
            TopicSet(topics=topics, settings=current.settings, versions=versions),
            idle_close=self._idle_close,
        )

    async def _topic(self, topic_id: str, version: int) -> Topic | None:
        key = (topic_id, version)
        if key in self._topics:
            return self._topics[key]
        async with self._uow.read() as repos:
            found = await repos.topics.version(topic_id, version)
        topic = topic_of(found.source, topic_id) if found is not None else None
        self._topics[key] = topic
        while len(self._topics) > PINNED_TOPICS:
            self._topics.popitem(last=False)
        return topic
