"""Reading topic documents: what is wrong is an error with its place, never a crash."""

from __future__ import annotations

import pytest
import yaml

from textdesk.topic_tools import topic_files
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


# libyaml's reader where PyYAML has it, its own pure-Python one where it has not: a
# source reads the same either way.
LOADERS = [pytest.param(yaml.SafeLoader, id="pure-python")]
if hasattr(yaml, "CSafeLoader"):
    LOADERS.append(pytest.param(yaml.CSafeLoader, id="libyaml"))


@pytest.fixture(params=LOADERS)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topic_files, "YAML_LOADER", request.param)


@pytest.mark.usefixtures("loader")
def test_blocks_nested_thousands_deep_are_an_error_not_a_crash() -> None:
    """PyYAML's composer runs out of stack, libyaml stops at 1,000 deep: one error."""
    assert errors_of("- " * 5000 + "x") == [
        SourceError("deep.yaml", 1, "", "YAML nested too deeply")
    ]


@pytest.mark.usefixtures("loader")
def test_a_syntax_error_is_on_its_line() -> None:
    [error] = errors_of("title: Broken\nkeywords: [a, b\nnodes: []\n")
    assert (error.line, error.message.startswith("YAML syntax: ")) == (3, True)


@pytest.mark.usefixtures("loader")
def test_a_character_yaml_does_not_allow_is_an_error_on_its_line() -> None:
    """A NUL pasted into the editor or sent to the API: an error, not a crash."""
    [error] = errors_of("title: Nul\nkeywords: [a\x00]\n")
    assert (error.line, error.message.startswith("YAML syntax: ")) == (2, True)


def test_templates_and_keyword_lists_are_not_counted_as_deep() -> None:
    """Many brackets side by side are not nesting."""
    nodes = "".join(
        f"  - type: message\n    text: '{{{{ vars.a{i} }}}} [{i}] {{% if x %}}y{{% endif %}}'\n"
        for i in range(40)
    )
    text = f"title: Wide\nkeywords: [{', '.join(f'[w{i}]' for i in range(3))}]\nnodes:\n{nodes}"
    assert not any("nested" in e.message for e in errors_of(text + "  - type: mesage\n"))
