"""Reading topic documents: what is wrong is an error with its place, never a crash."""

from __future__ import annotations

import pytest

from textdesk.topic_tools.topic_files import Document, SourceError, read_documents


def errors_of(text: str) -> list[SourceError]:
    topic_set, errors, _ = read_documents([Document("deep.yaml", text)])
    assert topic_set is None
    return [e for e in errors if e.file == "deep.yaml"]


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_flow_collections_nested_too_deep_are_refused_before_parsing(opening: str) -> None:
    """ "[[[[…" would cost PyYAML seconds before failing: refused at once, with its line."""
    text = "title: Deep\nkeywords: " + opening * 60_000
    assert errors_of(text) == [SourceError("deep.yaml", 2, "", "YAML nested more than 32 deep")]


def test_blocks_nested_thousands_deep_are_an_error_not_a_crash() -> None:
    """PyYAML composes each level recursively; deeper than Python's stack is refused."""
    assert errors_of("- " * 5000 + "x") == [
        SourceError("deep.yaml", 1, "", "YAML nested too deeply")
    ]


def test_templates_and_keyword_lists_are_not_counted_as_deep() -> None:
    """Many brackets side by side are not nesting."""
    nodes = "".join(
        f"  - type: message\n    text: '{{{{ vars.a{i} }}}} [{i}] {{% if x %}}y{{% endif %}}'\n"
        for i in range(40)
    )
    text = f"title: Wide\nkeywords: [{', '.join(f'[w{i}]' for i in range(3))}]\nnodes:\n{nodes}"
    assert not any("nested" in e.message for e in errors_of(text + "  - type: mesage\n"))
