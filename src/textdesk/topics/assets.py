"""A topic's images and conversation scripts: uploaded in the designer, stored with it.

An image is served as ``topics/<topic_id>/<name>`` (the key an image node names);
a script is YAML (``topic_tools/script_runner``) run against the topic's draft.

Assets belong to the topic, shared by its draft and its published version rather
than copied into each version.  What keeps a published version's behaviour fixed
until the next publish is one rule: **an image a topic uses (in its draft or its
live version, any topic's) is neither replaced nor deleted**; a new picture gets a
new name, the node is changed, and the change goes live by publishing, like any
other.  So no snapshot tables, and no image is stored twice.  A rollback to a
version whose image has since been deleted is refused by the validator, saying
which image is missing.  Scripts are never sent to texters, so they are edited
freely.

Uploads get the checks of an inbound MMS image: the size cap first, then a full
decode (``ports.ImageChecker``, in a thread) under the pixel cap, so a PDF renamed
``.png``, a truncated file or a decompression bomb is refused and nothing is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any, Literal

import yaml

from textdesk.domain.media_keys import IMAGE_NAME, topic_media_key
from textdesk.domain.topics.schema import TopicSet
from textdesk.ports import (
    CheckedImage,
    Clock,
    ImageChecker,
    ReadingUnitOfWork,
    TopicAsset,
    TopicRepositories,
)
from textdesk.topic_tools.script_runner import (
    Script,
    ScriptFileError,
    ScriptResult,
    parse_script,
    play_script,
)
from textdesk.topic_tools.topic_files import (
    Document,
    SourceError,
    TooDeep,
    check_depth,
    read_documents,
)
from textdesk.topics.library import (
    ImportReport,
    TopicLibrary,
    UnknownTopic,
    document_name,
    id_of,
    media_check,
)

SCRIPT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")  # and no "__": see script_file
MAX_SCRIPT = 100_000  # characters: a script is a page of steps
MAX_PER_TOPIC = 50  # images, and scripts: a topic's, not a library's
SCRIPT_TYPE = "application/yaml"
_SCRIPT_ERRORS = "Not stored: the script has errors."
Kind = Literal["image", "script"]


class AssetRefused(ValueError):
    """An upload or a deletion refused; the message says why, for the designer."""

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class AssetInUse(AssetRefused):
    """An image a topic uses: neither replaced nor deleted."""


@dataclass(frozen=True)
class AssetListing:
    """A topic's images (with the key an image node names) and scripts."""

    images: list[TopicAsset] = field(default_factory=list)
    scripts: list[TopicAsset] = field(default_factory=list)

    @staticmethod
    def key(asset: TopicAsset) -> str:
        return topic_media_key(asset.topic_id, asset.name)


@dataclass(frozen=True)
class ScriptRun:
    """The topic's scripts run against a draft, or why they could not run."""

    results: list[ScriptResult] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.ok for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed


def script_name(file_name: str) -> str:
    """A script's name from its file's name (``happy_path.yaml`` → ``happy_path``)."""
    return re.sub(r"\.ya?ml$", "", file_name.strip(), flags=re.IGNORECASE)


def image_refusal(reason: str, *, max_pixels: int) -> str:
    """What the designer says for an ``ImageChecker`` refusal."""
    if reason == "too_many_pixels":
        return f"Not stored: the image has more than {max_pixels / 1_000_000:g} megapixels."
    if reason == "unreadable":
        return "Not stored: the image is damaged or cut short."
    return (
        "Not stored: this file is not a JPEG, PNG, GIF or WebP image "
        "(a PDF or another file renamed .png is refused)."
    )


def media_used(data: Any) -> Iterator[str]:
    """Every string in a topic's parsed YAML (image keys among them)."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from media_used(value)
    elif isinstance(data, list):
        for value in data:
            yield from media_used(value)


def _parsed(source: str | None) -> Any:
    if not source:
        return None
    try:
        check_depth(source)
        return yaml.safe_load(source)
    except (yaml.YAMLError, TooDeep, RecursionError):
        return None


class TopicAssets:
    """Uploads, lists, deletes and runs a topic's images and scripts."""

    def __init__(
        self,
        uow: ReadingUnitOfWork[TopicRepositories],
        clock: Clock,
        *,
        library: TopicLibrary,
        images: ImageChecker,
        max_bytes: int,
        max_pixels: int,
        zone: tzinfo = UTC,
        media_exists: Callable[[str], bool] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._library = library
        self._images = images
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self._zone = zone
        self._media_exists = media_exists

    # ------------------------------------------------------------------ reading

    async def listing(self, topic_id: str) -> AssetListing:
        async with self._uow.read() as repos:
            if await repos.topics.get(topic_id) is None:
                raise UnknownTopic(topic_id)
            found = await repos.assets.find(topic_id)
        return AssetListing(
            images=[a for a in found if a.kind == "image"],
            scripts=[a for a in found if a.kind == "script"],
        )

    async def script(self, topic_id: str, name: str) -> str:
        async with self._uow.read() as repos:
            found = await repos.assets.get(topic_id, "script", name)
        if found is None or found.data is None:
            raise UnknownTopic(f"{topic_id} script {name}")
        return found.data.decode("utf-8")

    # ------------------------------------------------------------------ checking

    async def check_image(self, name: str, data: bytes) -> CheckedImage:
        """An upload as a stored image would be: refused (``AssetRefused``) when its
        name, size or content is wrong.  The decode runs in a thread."""
        if IMAGE_NAME.match(name) is None:
            raise AssetRefused(
                "Not stored: an image's name is letters, digits and _ . - ending in "
                ".png, .jpg, .gif or .webp (at most 100 characters)."
            )
        if not data:
            raise AssetRefused("Not stored: the file is empty.")
        if len(data) > self.max_bytes:
            limit = self.max_bytes / (1024 * 1024)
            raise AssetRefused(f"Not stored: the image is larger than {limit:g} MB.")
        checked = await asyncio.to_thread(self._images.check, data, max_pixels=self.max_pixels)
        if isinstance(checked, str):
            raise AssetRefused(image_refusal(checked, max_pixels=self.max_pixels))
        return checked

    def check_script(self, name: str, text: str) -> Script:
        """A script as it would run; ``AssetRefused`` with each ``file:line`` when not."""
        if SCRIPT_NAME.match(name) is None or "__" in name:
            raise AssetRefused(
                "Not stored: a script's name is letters, digits and _ . - "
                "(no double underscore), at most 80 characters."
            )
        if not text.strip():
            raise AssetRefused("Not stored: the script is empty.")
        if len(text) > MAX_SCRIPT or "\x00" in text:
            raise AssetRefused(
                f"Not stored: a script is UTF-8 YAML text (no NUL bytes) of at most "
                f"{MAX_SCRIPT:,} characters."
            )
        try:
            check_depth(text)
            return parse_script(Path(f"{name}.yaml"), text)
        except TooDeep as exc:
            raise AssetRefused(_SCRIPT_ERRORS, [f"{name}.yaml:{exc.line}: {exc}"]) from exc
        except RecursionError as exc:
            raise AssetRefused(_SCRIPT_ERRORS, [f"{name}.yaml:1: YAML nested too deeply"]) from exc
        except ScriptFileError as exc:
            raise AssetRefused(_SCRIPT_ERRORS, exc.errors) from exc

    # ------------------------------------------------------------------ changing

    async def upload_image(self, topic_id: str, name: str, data: bytes, *, by: str) -> TopicAsset:
        """Store an image for ``topic_id``; one in use keeps its bytes (``AssetRefused``)."""
        checked = await self.check_image(name, data)
        return await self._put(topic_id, "image", name, data, checked.content_type, by=by)

    async def save_script(self, topic_id: str, name: str, text: str, *, by: str) -> TopicAsset:
        self.check_script(name, text)
        return await self._put(topic_id, "script", name, text.encode("utf-8"), SCRIPT_TYPE, by=by)

    async def _put(
        self, topic_id: str, kind: Kind, name: str, data: bytes, content_type: str, *, by: str
    ) -> TopicAsset:
        asset = _asset(topic_id, kind, name, data, content_type, by, self._clock.now())
        async with self._uow.begin() as repos:
            await repos.topics.lock()
            if await repos.topics.get(topic_id) is None:
                raise UnknownTopic(topic_id)
            mine = await repos.assets.find(topic_id)
            there = next((a for a in mine if (a.kind, a.name) == (kind, name)), None)
            if there is None and sum(a.kind == kind for a in mine) >= MAX_PER_TOPIC:
                raise AssetRefused(f"Not stored: a topic has at most {MAX_PER_TOPIC} {kind}s.")
            if kind == "image" and there is not None and there.sha256 != asset.sha256:
                users = await self._users(repos, topic_media_key(topic_id, name))
                if users:
                    raise AssetInUse(
                        f"Not replaced: {', '.join(users)} uses this image. Upload the new "
                        "picture under another name and change the node, so it goes live "
                        "when the topic is published."
                    )
            await repos.assets.put(asset)
        return asset

    async def delete(self, topic_id: str, kind: Kind, name: str, *, by: str) -> None:
        """Remove an image no topic uses, or a script; ``AssetRefused`` says who uses it."""
        async with self._uow.begin() as repos:
            await repos.topics.lock()
            if kind == "image":
                users = await self._users(repos, topic_media_key(topic_id, name))
                if users:
                    raise AssetInUse(
                        f"Not deleted: {', '.join(users)} uses this image. Remove it from "
                        "the nodes (and publish) first."
                    )
            if not await repos.assets.delete(topic_id, kind, name):
                raise UnknownTopic(f"{topic_id} {kind} {name}")

    async def _users(self, repos: TopicRepositories, key: str) -> list[str]:
        """Which topics' drafts or live versions name ``key``: "report_issue (draft)"."""
        live = {row.id: version.source for row, version in await repos.topics.published()}
        users = []
        for row in await repos.topics.all():
            for label, source in (("draft", row.draft), ("published", live.get(row.id))):
                if key in set(media_used(_parsed(source))):
                    users.append(f"{row.id} ({label})")
        return users

    # ------------------------------------------------------------------ importing

    async def import_folder(
        self,
        documents: Sequence[Document],
        images: Sequence[tuple[str, str, bytes]],
        scripts: Sequence[tuple[str, str, bytes]],
        *,
        by: str,
        publish_changed: bool,
    ) -> ImportReport:
        """A folder's topics with their images ``(topic_id, name, bytes)`` and scripts
        ``(topic_id, name, bytes)``: each checked as an upload; a refused one is an
        error of the report and is not stored."""
        now = self._clock.now()
        assets: list[TopicAsset] = []
        refused: list[SourceError] = []
        for topic_id, name, data in images:
            try:
                checked = await self.check_image(name, data)
            except AssetRefused as exc:
                refused.append(SourceError(f"media/{topic_id}/{name}", 1, "", str(exc)))
                continue
            assets.append(_asset(topic_id, "image", name, data, checked.content_type, by, now))
        for topic_id, name, data in scripts:
            try:
                self.check_script(name, _text(data))
            except AssetRefused as exc:
                message = "; ".join(exc.errors) or str(exc)
                refused.append(SourceError(f"scripts/{topic_id}__{name}.yaml", 1, "", message))
                continue
            assets.append(_asset(topic_id, "script", name, data, SCRIPT_TYPE, by, now))
        report = await self._library.import_documents(
            documents, by=by, publish_changed=publish_changed, assets=assets
        )
        report.errors[:0] = refused
        return report

    # ------------------------------------------------------------------ running

    async def run_scripts(self, topic_id: str, source: str) -> ScriptRun:
        """Every script of the topic against ``source`` as its draft, among the other
        published topics: in memory, nothing sent or written.  The engine's work runs
        in a thread, off the event loop."""
        errors, _ = await self._library.check(topic_id, source)
        if errors:
            return ScriptRun(errors=errors)
        async with self._uow.read() as repos:
            if await repos.topics.get(topic_id) is None:
                raise UnknownTopic(topic_id)
            every = await repos.assets.find()
            stored = await repos.assets.find(topic_id, with_data=True)
            others = [
                Document(document_name(row.id, row), version.source)
                for row, version in await repos.topics.published()
                if row.id != topic_id
            ]
        mine = Document(document_name(topic_id), source)
        topics, _, _ = read_documents(
            [d for d in others if id_of(d) != topic_id] + [mine],
            media_exists=media_check(every, self._media_exists),
            strict=False,
        )
        assert topics is not None  # not strict
        scripts = [(a.name, (a.data or b"").decode("utf-8")) for a in stored if a.kind == "script"]
        results = await asyncio.to_thread(_run_all, scripts, topics, self._zone)
        return ScriptRun(results=results)


def _text(data: bytes) -> str:
    """A script's bytes as text; not UTF-8 reads as a NUL, which the check refuses."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "\x00"


def _asset(
    topic_id: str, kind: Kind, name: str, data: bytes, content_type: str, by: str, now: Any
) -> TopicAsset:
    return TopicAsset(
        topic_id=topic_id,
        kind=kind,
        name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        updated_by=by,
        updated_at=now,
        data=data,
    )


def _run_all(scripts: list[tuple[str, str]], topics: TopicSet, zone: tzinfo) -> list[ScriptResult]:
    """In a worker thread: a loop of its own, the world in memory."""
    return asyncio.run(_play_all(scripts, topics, zone))


async def _play_all(
    scripts: list[tuple[str, str]], topics: TopicSet, zone: tzinfo
) -> list[ScriptResult]:
    results = []
    for name, text in scripts:
        path = Path(f"{name}.yaml")
        try:
            script = parse_script(path, text)
        except ScriptFileError as exc:
            results.append(ScriptResult(path, name, errors=tuple(exc.errors)))
            continue
        results.append(await play_script(script, topics, zone=zone))
    return results
