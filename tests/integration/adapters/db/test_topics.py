"""The topic library on the database: versions, the published set, the generation."""

from __future__ import annotations

import asyncio

import pytest

from tests.images import photo
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.topics import SqlTopicMedia, topic_store
from textdesk.adapters.image_checks import PillowImageChecker
from textdesk.config import DEMO_TOPICS_DIR
from textdesk.testing.clock import FixedClock
from textdesk.topic_tools.topic_files import Document, folder_documents
from textdesk.topics.assets import TopicAssets
from textdesk.topics.library import StaleDraft, TopicLibrary

PASSWORD = """\
# Hand-written: this comment is part of the file.
title: Reset my password
keywords: [password]
nodes:
  - type: message
    text: Go to https://id.example.com/reset.
"""


async def test_drafts_versions_and_the_published_set_round_trip_through_the_tables(
    database_url: str,
) -> None:
    db = create_engine(database_url)
    try:
        uow = topic_store(db)
        lib = TopicLibrary(uow, FixedClock())
        saved = await lib.save_draft("password", PASSWORD, by="Ada", revision=0)
        with pytest.raises(StaleDraft):
            await lib.save_draft("password", PASSWORD, by="Bo", revision=0)
        await lib.publish("password", by="Ada", note="first")
        await lib.save_draft("password", PASSWORD.replace("reset.", "reset now."), by="Ada")
        await lib.publish("password", by="Ada", note="second")
        await lib.rollback("password", 1, by="Bo")
        assert [(v.version, v.note) for v in await lib.versions("password")] == [
            (3, "rollback to version 1"),
            (2, "second"),
            (1, "first"),
        ]
        assert [(d.name, d.text) for d in await lib.published_documents()] == [
            ("password.yaml", PASSWORD)
        ]
        async with uow.read() as repos:
            assert await repos.topics.generation() == 3
        detail = await lib.get("password")
        assert (detail.published, detail.revision > saved.revision) == (3, True)
    finally:
        await db.dispose()


async def test_two_imports_at_once_publish_the_folder_once(database_url: str) -> None:
    """Processes starting together: the topics' lock makes one import of the two."""
    db = create_engine(database_url)
    try:
        uow = topic_store(db)
        demo = folder_documents(DEMO_TOPICS_DIR)
        first, second = await asyncio.gather(
            TopicLibrary(uow, FixedClock()).import_documents(demo, by="a", publish_changed=False),
            TopicLibrary(uow, FixedClock()).import_documents(demo, by="b", publish_changed=False),
        )
        assert sorted([len(first.published), len(second.published)]) == [0, len(demo)]
        documents = await TopicLibrary(uow, FixedClock()).published_documents()
        assert sorted((d.name, d.text) for d in documents) == sorted((d.name, d.text) for d in demo)
        assert all(isinstance(d, Document) for d in documents)
    finally:
        await db.dispose()


async def test_a_topics_images_and_scripts_are_stored_listed_served_and_replaced(
    database_url: str,
) -> None:
    """Bytes kept as uploaded; the listing leaves them out; /media's reader finds the
    image by its key; a put of the same name replaces it."""
    db = create_engine(database_url)
    try:
        uow = topic_store(db)
        lib = TopicLibrary(uow, FixedClock())
        await lib.save_draft("password", PASSWORD, by="Ada", revision=0)
        png = photo(5, 4)
        store = TopicAssets(
            uow,
            FixedClock(),
            library=lib,
            images=PillowImageChecker(),
            max_bytes=1024 * 1024,
            max_pixels=25_000_000,
        )
        await store.upload_image("password", "reset.png", png, by="Ada")
        await store.save_script("password", "happy", "steps:\n  - say: password\n", by="Ada")
        listing = await store.listing("password")
        assert [(a.name, a.size, a.data) for a in listing.images] == [("reset.png", len(png), None)]
        assert [a.name for a in listing.scripts] == ["happy"]
        served = await SqlTopicMedia(db).load("topics/password/reset.png")
        assert served is not None
        assert (served.content_type, served.data) == ("image/png", png)
        assert await SqlTopicMedia(db).load("topics/password/other.png") is None
        await store.upload_image("password", "reset.png", photo(7, 7), by="Bo")
        async with uow.read() as repos:
            kept = await repos.assets.get("password", "image", "reset.png")
        assert kept is not None
        assert (kept.data, kept.updated_by) == (photo(7, 7), "Bo")
    finally:
        await db.dispose()
