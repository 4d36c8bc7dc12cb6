"""The topic library on in-memory tables: drafts, publishing, versions, imports."""

from __future__ import annotations

import asyncio
import threading

import pytest

from textdesk.config import DEMO_TOPICS_DIR
from textdesk.testing.clock import FixedClock
from textdesk.testing.topics import TopicTables, fake_topics
from textdesk.topic_tools.topic_files import Document, folder_documents
from textdesk.topics.library import (
    InvalidTopic,
    NothingToPublish,
    StaleDraft,
    TopicLibrary,
    UnknownTopic,
)

PASSWORD = """\
title: Reset my password
keywords: [password, reset]
nodes:
  - type: message
    text: Go to https://id.example.com/reset and follow the steps.
"""


def library(tables: TopicTables | None = None) -> tuple[TopicLibrary, TopicTables, list[int]]:
    tables = tables or TopicTables()
    told: list[int] = []
    lib = TopicLibrary(
        fake_topics(tables), FixedClock(), on_published=lambda: told.append(tables.generation)
    )
    return lib, tables, told


async def test_a_draft_is_saved_then_published_as_version_one() -> None:
    lib, tables, told = library()
    saved = await lib.save_draft("password", PASSWORD, by="Ada")
    assert (saved.draft_source, saved.published, saved.errors) == (PASSWORD, None, [])
    assert tables.generation == 0  # a draft serves nobody
    version = await lib.publish("password", by="Ada", note="first cut")
    assert (version.version, version.note, version.published_by) == (1, "first cut", "Ada")
    detail = await lib.get("password")
    assert (detail.published, detail.published_source, detail.draft_source) == (1, PASSWORD, None)
    assert tables.generation == 1
    assert told == [1]
    [summary] = await lib.summaries()
    assert (summary.title, summary.keywords, summary.published, summary.draft) == (
        "Reset my password",
        ("password", "reset"),
        1,
        False,
    )
    with pytest.raises(NothingToPublish):
        await lib.publish("password", by="Ada")


async def test_an_invalid_source_is_refused_with_its_line_and_nothing_is_saved() -> None:
    lib, tables, _ = library()
    broken = PASSWORD.replace("  - type: message\n", "  - type: mesage\n")
    with pytest.raises(InvalidTopic) as refused:
        await lib.save_draft("password", broken, by="Ada")
    [error] = refused.value.errors
    assert (error.file, error.line) == ("password.yaml", 4)
    assert tables.topics == {}


async def test_a_source_that_names_another_topic_is_refused() -> None:
    lib, tables, _ = library()
    with pytest.raises(InvalidTopic) as refused:
        await lib.save_draft("password", "id: other\n" + PASSWORD, by="Ada")
    [error] = refused.value.errors
    assert (error.line, error.field) == (1, "id")
    assert "not 'password'" in error.message
    assert tables.topics == {}


async def test_a_save_over_a_newer_revision_is_refused_showing_what_is_there() -> None:
    lib, _, _ = library()
    first = await lib.save_draft("password", PASSWORD, by="Ada")
    theirs = await lib.save_draft(
        "password", PASSWORD.replace("follow", "read"), by="Bo", revision=first.revision
    )
    with pytest.raises(StaleDraft) as stale:
        await lib.save_draft(
            "password", PASSWORD.replace("follow", "do"), by="Ada", revision=first.revision
        )
    assert stale.value.current.draft_source == theirs.draft_source
    assert stale.value.current.draft_by == "Bo"
    # Without a revision the last writer wins (API clients without If-Match).
    last = await lib.save_draft("password", PASSWORD.replace("follow", "do"), by="Cy")
    assert last.draft_by == "Cy"


async def test_a_publish_from_an_older_revision_publishes_nothing() -> None:
    """The publisher names the revision they reviewed: a draft changed since stays a draft."""
    lib, tables, told = library()
    reviewed = await lib.save_draft("password", PASSWORD, by="Ada")
    await lib.save_draft("password", PASSWORD.replace("follow", "read"), by="Bo")
    with pytest.raises(StaleDraft) as stale:
        await lib.publish("password", by="Ada", revision=reviewed.revision)
    assert stale.value.current.draft_by == "Bo"
    assert (tables.versions, tables.generation, told) == ([], 0, [])
    version = await lib.publish("password", by="Ada", revision=stale.value.current.revision)
    assert version.source == PASSWORD.replace("follow", "read")
    detail = await lib.get("password")
    assert (detail.published_by, detail.published_at) == ("Ada", version.published_at)


async def test_every_change_takes_the_topics_lock() -> None:
    """Saves, publishes, rollbacks and unpublishes hold the lock imports hold, so that a
    revision read is still the topic's when the change is written (across processes)."""
    lib, tables, _ = library()
    await lib.save_draft("password", PASSWORD, by="Ada")
    await lib.publish("password", by="Ada")
    await lib.rollback("password", 1, by="Ada")
    await lib.unpublish("password", by="Ada")
    assert tables.locks == 4


async def test_rollback_publishes_an_earlier_version_again_and_keeps_the_draft() -> None:
    lib, tables, _ = library()
    await lib.save_draft("password", PASSWORD, by="Ada")
    await lib.publish("password", by="Ada")
    await lib.save_draft("password", PASSWORD.replace("follow", "read"), by="Ada")
    await lib.publish("password", by="Ada", note="v2")
    await lib.save_draft("password", PASSWORD.replace("follow", "do"), by="Ada")
    back = await lib.rollback("password", 1, by="Bo")
    assert (back.version, back.source, back.note) == (3, PASSWORD, "rollback to version 1")
    detail = await lib.get("password")
    assert detail.published == 3
    assert detail.draft_source == PASSWORD.replace("follow", "do")
    assert [v.version for v in await lib.versions("password")] == [3, 2, 1]
    with pytest.raises(UnknownTopic):
        await lib.rollback("password", 9, by="Bo")
    await lib.unpublish("password", by="Bo")
    assert (await lib.get("password")).published is None
    assert tables.generation == 4


async def test_a_folder_is_imported_published_then_a_changed_file_becomes_a_draft() -> None:
    lib, tables, _ = library()
    demo = folder_documents(DEMO_TOPICS_DIR)
    first = await lib.import_documents(demo, by="start", publish_changed=False)
    assert set(first.published) == {"_settings", *(d.name[:-5] for d in demo if d.name[0] != "_")}
    assert first.errors == []
    assert tables.locks == 1
    # Exported byte for byte, comments and all.
    assert sorted((d.name, d.text) for d in await lib.published_documents()) == sorted(
        (d.name, d.text) for d in demo
    )
    again = await lib.import_documents(demo, by="start", publish_changed=False)
    assert again.published == again.drafted == []
    edited = [
        Document(d.name, d.text.replace("Report an issue", "Report a problem"))
        if d.name == "report_issue.yaml"
        else d
        for d in demo
    ]
    later = await lib.import_documents(edited, by="start", publish_changed=False)
    assert later.drafted == ["report_issue"]
    detail = await lib.get("report_issue")
    assert detail.published == 1
    assert detail.draft_source is not None
    assert "Report a problem" in detail.draft_source
    assert detail.draft_by == "file report_issue.yaml"


async def test_an_invalid_file_becomes_an_invalid_draft_and_the_published_one_serves() -> None:
    lib, _, _ = library()
    await lib.import_documents(
        [Document("password.yaml", PASSWORD)], by="start", publish_changed=False
    )
    broken = Document("password.yaml", PASSWORD.replace("type: message", "type: mesage"))
    report = await lib.import_documents([broken], by="cli", publish_changed=True)
    assert report.drafted == ["password"]
    assert report.errors[0].file == "password.yaml"
    detail = await lib.get("password")
    assert (detail.published, detail.published_source) == (1, PASSWORD)
    [summary] = await lib.summaries()
    assert summary.draft_valid is False
    assert detail.errors  # and the designer is told why


async def test_an_explicit_import_publishes_changed_files() -> None:
    lib, _, _ = library()
    await lib.import_documents(
        [Document("password.yaml", PASSWORD)], by="start", publish_changed=False
    )
    changed = Document("password.yaml", PASSWORD.replace("follow", "read"))
    report = await lib.import_documents([changed], by="cli", publish_changed=True)
    assert report.published == ["password"]
    assert (await lib.get("password")).published == 2


PHOTO = """\
title: Where is the serial number
keywords: [serial]
nodes:
  - type: image
    media: demo/serial.png
"""


@pytest.mark.parametrize("call", ["check", "save_draft"])
async def test_the_validator_runs_off_the_event_loop(call: str) -> None:
    """Checking a big topic set is CPU: while it runs, the loop goes on with other work
    (webhooks).  Here the check is held in the middle (at its image) until the loop
    has run on; checked on the loop itself, it would hold the loop there instead."""
    in_check, release = threading.Event(), threading.Event()

    def media_exists(key: str) -> bool:
        in_check.set()
        return release.wait(timeout=10)

    lib = TopicLibrary(fake_topics(TopicTables()), FixedClock(), media_exists=media_exists)
    if call == "check":
        checking = asyncio.ensure_future(lib.check("serial", PHOTO))
    else:
        checking = asyncio.ensure_future(lib.save_draft("serial", PHOTO, by="Ada"))
    assert await asyncio.to_thread(in_check.wait, 10)
    assert not checking.done()  # the loop ran this while the validator was busy
    release.set()
    result = await checking
    assert (result[0] if call == "check" else result.errors) == []
