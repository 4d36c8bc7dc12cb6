"""The designer's diff between two versions of a topic source."""

from __future__ import annotations

from textdesk.topic_tools.source_diff import source_diff


def test_each_line_of_the_diff_says_how_to_show_it() -> None:
    """Files, hunks, added and removed lines and context are told apart."""
    lines = source_diff("a\nb\nc\n", "a\nB\nc\n", before_name="version 1", after_name="editor")
    assert [(line.kind, line.text) for line in lines] == [
        ("file", "--- version 1"),
        ("file", "+++ editor"),
        ("hunk", "@@ -1,3 +1,3 @@"),
        ("same", " a"),
        ("removed", "-b"),
        ("added", "+B"),
        ("same", " c"),
    ]


def test_the_same_source_has_no_diff() -> None:
    assert source_diff("a\n", "a\n", before_name="x", after_name="y") == []
