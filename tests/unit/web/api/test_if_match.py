"""If-Match on a topic: the forms a revision is sent in, and the stale save's message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from textdesk.topics.library import TopicDetail
from textdesk.web.api.if_match import ANY, BadIfMatch, changed_since, if_match

MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def topic(**changes: object) -> TopicDetail:
    values: dict[str, object] = {
        "id": "canteen",
        "origin": "api",
        "revision": 5,
        "published": None,
        "published_source": None,
        "draft_source": "title: Canteen\n",
        "draft_base": None,
        "draft_by": None,
        "draft_at": None,
        "file_name": None,
    }
    values.update(changes)
    return TopicDetail(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ('"3"', 3),
        ("3", 3),
        (' "3" ', 3),
        ('W/"3"', 3),
        ('"0"', 0),
        ("*", ANY),
    ],
)
def test_a_revision_is_read_as_the_etag_gave_it_or_bare(
    header: str | None, expected: object
) -> None:
    """The quoted ETag, a bare number, a weak tag, "0" (create only) and * are understood."""
    assert if_match(header) == expected


@pytest.mark.parametrize("header", ["", "abc", '"3", "4"', '"-1"', '"3', "9" * 12])
def test_an_if_match_naming_no_revision_is_refused(header: str) -> None:
    """Anything else is a mistake to explain, not a revision that never matches."""
    with pytest.raises(BadIfMatch, match="one revision"):
        if_match(header)


def test_a_stale_save_is_told_who_changed_the_topic_last() -> None:
    """The latest of the draft's save and the live version's publish is named."""
    drafted = topic(
        draft_by="Bea", draft_at=NOON, published=2, published_by="Cy", published_at=MORNING
    )
    message = changed_since(drafted, 3)
    assert message.startswith("topic canteen changed since revision 3: it is at revision 5")
    assert "last draft saved by Bea at 2026-03-02 12:00:00 UTC" in message
    assert message.endswith('send If-Match: "5".')
    published = topic(
        draft_by="Bea", draft_at=MORNING, published=2, published_by="Cy", published_at=NOON
    )
    assert "last version 2 published by Cy" in changed_since(published, 3)


def test_a_create_only_save_over_an_existing_topic_says_it_exists() -> None:
    assert changed_since(topic(), 0).startswith("topic canteen already exists (revision 5).")
