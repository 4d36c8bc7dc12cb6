"""Reading topic files from a folder, with errors a designer can act on.

Every ``*.yaml``/``*.yml`` holds one topic (its ``id`` defaults to the file name);
``_settings.yaml`` (optional) holds the ``TopicSettings``.  Errors name the file, the
line and the field, e.g. ``report_issue.yaml:14: nodes[2].options: field required``:
YAML's composed node tree keeps each value's position, and a Pydantic error's
``loc`` is walked down that tree to the deepest node it reaches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.reader import ReaderError

from textdesk.demo import demo_media
from textdesk.domain.media_keys import topic_media_parts
from textdesk.domain.topics.checks import SETTINGS_ID, Loc, Problem, validate_topics
from textdesk.domain.topics.schema import Topic, TopicSet, TopicSettings
from textdesk.domain.topics.yaml_writing import YAML_LOADER

__all__ = [
    "MAX_FLOW_DEPTH",
    "SETTINGS_FILE",
    "Document",
    "SourceError",
    "TooDeep",
    "TopicFileError",
    "check_depth",
    "folder_documents",
    "load_topics",
    "locate",
    "read_documents",
    "validate_dir",
]

SETTINGS_FILE = "_settings.yaml"
_SETTINGS_NAMES = (SETTINGS_FILE, "_settings.yml")


class TopicFileError(Exception):
    """Topic files that cannot be used; ``errors`` lists each ``file:line: message``."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True)
class Document:
    """One topic file's text and its name (``report_issue.yaml``, ``_settings.yaml``):
    a file in a folder, or a topic's source as the database keeps it."""

    name: str
    text: str

    @property
    def is_settings(self) -> bool:
        return self.name in _SETTINGS_NAMES


@dataclass(frozen=True)
class SourceError:
    """A problem in a document, where a designer finds it: its line and field."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


@dataclass
class _Source:
    """One parsed document: its data and the YAML node tree that locates it."""

    name: str
    data: Any
    root: yaml.Node | None


# PyYAML's scanner does work for every open flow collection ("[", "{") at each token,
# so "[[[[…" costs seconds of CPU long before it fails; no topic nests so deep.
MAX_FLOW_DEPTH = 32


class TooDeep(ValueError):
    """A source whose flow collections nest deeper than ``MAX_FLOW_DEPTH``."""

    def __init__(self, line: int) -> None:
        self.line = line
        super().__init__(f"YAML nested more than {MAX_FLOW_DEPTH} deep")


def check_depth(text: str) -> None:
    """Raise ``TooDeep`` (with the line) before a deep source is parsed.

    Brackets are counted wherever they are, quoted or not: a cheap, linear bound
    that real topics (keyword lists, ``{{ templates }}``) stay far below.
    """
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return
    depth = 0
    line = 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                raise TooDeep(line)
        elif char in "]}" and depth:
            depth -= 1


TOO_DEEP_BLOCKS = "YAML nested too deeply"
# libyaml stops at 1,000 nested collections, with this problem, where the pure-Python
# composer runs out of stack (RecursionError): the same error either way.
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"


def _parse(document: Document) -> _Source:
    check_depth(document.text)
    loader = YAML_LOADER(document.text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return _Source(document.name, data, root)


def locate(root: yaml.Node | None, loc: Loc) -> tuple[int, str]:
    """The 1-based line a Pydantic error ``loc`` points at, and ``loc`` as ``steps[2].say``.

    Used for topic files and test scripts alike.  Parts of ``loc`` that are not in
    the file (Pydantic's union tags) are dropped, except a last field name, which is
    what a "field required" error is about: it is reported at its parent's line.
    """
    node, line, shown = root, (root.start_mark.line + 1 if root else 1), ""
    for position, part in enumerate(loc):
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            if position == len(loc) - 1 and isinstance(part, str):
                shown += f".{part}" if shown else part
            continue
        node, line = child, child.start_mark.line + 1
        shown += f"[{part}]" if isinstance(part, int) else (f".{part}" if shown else part)
    return line, shown


def _error(source: _Source, loc: Loc, message: str) -> SourceError:
    line, shown = locate(source.root, loc)
    return SourceError(source.name, line, shown, message)


def _schema_errors(source: _Source, exc: ValidationError) -> list[SourceError]:
    out = []
    for error in exc.errors(include_url=False):
        message = str(error["msg"])
        message = message[:1].lower() + message[1:]
        if error["type"] == "extra_forbidden":
            message = "unknown field (a typo?)"
        out.append(_error(source, tuple(error["loc"]), message))
    return out


def stem(name: str) -> str:
    """A file name's topic id: ``report_issue.yaml`` is ``report_issue``."""
    return name.rsplit(".", 1)[0]


def _model(source: _Source, model: type[BaseModel], errors: list[SourceError]) -> Any:
    data = source.data
    if model is Topic and isinstance(data, dict) and "id" not in data:
        data = {"id": stem(source.name), **data}
    if not isinstance(data, dict):
        errors.append(SourceError(source.name, 1, "", "expected a mapping of fields"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors.extend(_schema_errors(source, exc))
        return None


def read_documents(
    documents: Sequence[Document],
    *,
    media_exists: Callable[[str], bool] | None = None,
    strict: bool = True,
) -> tuple[TopicSet | None, list[SourceError], list[SourceError]]:
    """Parse and check a set of documents: the topic set (if usable), errors, warnings.

    ``media_exists``: whether an image node's key can be served (default: a packaged
    demo image).  ``strict``: no set at all when anything is wrong; else the set of
    the topics that parse, whatever the errors.
    """
    errors: list[SourceError] = []
    sources: dict[str, _Source] = {}
    topics: list[Topic] = []
    settings = TopicSettings()
    settings_source: _Source | None = None
    for document in sorted(documents, key=lambda d: d.name):
        try:
            source = _parse(document)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            said = f"YAML syntax: {exc.problem or exc}"
            if exc.problem == _LIBYAML_TOO_DEEP:
                said = TOO_DEEP_BLOCKS
            errors.append(SourceError(document.name, line, "", said))
            continue
        except ReaderError as exc:  # a character YAML does not allow (a NUL)
            line = document.text.count("\n", 0, exc.position) + 1
            errors.append(SourceError(document.name, line, "", f"YAML syntax: {exc.reason}"))
            continue
        except TooDeep as exc:
            errors.append(SourceError(document.name, exc.line, "", str(exc)))
            continue
        except RecursionError:
            # PyYAML's own composer nests collections recursively: blocks ("- - - …")
            # thousands deep would otherwise crash the validator.
            errors.append(SourceError(document.name, 1, "", TOO_DEEP_BLOCKS))
            continue
        if document.is_settings:
            settings_source = source
            if source.data is not None:
                settings = _model(source, TopicSettings, errors) or settings
            continue
        topic = _model(source, Topic, errors)
        if topic is None:
            continue
        if topic.id in sources:
            errors.append(
                SourceError(
                    document.name,
                    1,
                    "id",
                    f"topic {topic.id!r} is also defined in {sources[topic.id].name}",
                )
            )
            continue
        sources[topic.id] = source
        topics.append(topic)
    topic_set = TopicSet(topics=topics, settings=settings)
    warnings: list[SourceError] = []
    for problem in validate_topics(topic_set, media_exists=media_exists or packaged_media_exists):
        located = _locate(problem, sources, settings_source)
        (errors if problem.severity == "error" else warnings).append(located)
    return (None if errors and strict else topic_set), errors, warnings


def folder_documents(directory: Path) -> list[Document]:
    """Every ``*.yaml``/``*.yml`` of a folder, by name."""
    return [
        Document(path.name, path.read_text(encoding="utf-8"))
        for path in sorted(directory.iterdir())
        if path.suffix in (".yaml", ".yml") and path.is_file()
    ]


def folder_media_exists(directory: Path) -> Callable[[str], bool]:
    """``media_exists`` of a topic folder: a packaged demo image, or a topic's image
    beside the topics (``topics/<id>/<name>`` is ``DIR/media/<id>/<name>``, as
    ``textdesk topics export`` writes it)."""
    media = directory / "media"

    def exists(key: str) -> bool:
        parts = topic_media_parts(key)
        if parts is None:
            return packaged_media_exists(key)
        return (media / parts[0] / parts[1]).is_file()

    return exists


def _read(directory: Path) -> tuple[TopicSet | None, list[str], list[str]]:
    """Parse and check a folder: the topic set (if usable), errors, warnings."""
    if not directory.is_dir():
        return None, [f"{directory}: not a folder"], []
    topic_set, errors, warnings = read_documents(
        folder_documents(directory), media_exists=folder_media_exists(directory)
    )
    return topic_set, [str(e) for e in errors], [str(w) for w in warnings]


def packaged_media_exists(key: str) -> bool:
    """Whether ``key`` is a packaged demo image (``demo/serial.png``)."""
    return demo_media(key) is not None


def _locate(
    problem: Problem, sources: dict[str, _Source], settings_source: _Source | None
) -> SourceError:
    if problem.topic_id == SETTINGS_ID:
        source = settings_source or _Source(SETTINGS_FILE, None, None)
    else:
        source = sources[problem.topic_id]
    return _error(source, problem.loc, problem.message)


def load_topics(directory: Path) -> TopicSet:
    """Load and validate every topic file in ``directory``.

    Raises ``TopicFileError`` listing every error (``file:line: field: message``);
    warnings (SMS cost) do not stop loading: see ``validate_dir``.
    """
    topic_set, errors, _ = _read(directory)
    if topic_set is None:
        raise TopicFileError(errors)
    return topic_set


def validate_dir(directory: Path) -> tuple[list[str], list[str]]:
    """Errors and warnings for a topic folder, for ``textdesk topics validate``."""
    _, errors, warnings = _read(directory)
    return errors, warnings
