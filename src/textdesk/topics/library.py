"""The topic library: drafts, published versions, rollbacks, imports and exports.

Every topic (and the topic settings, ``_settings``) is a YAML source kept as written:
a draft while it is edited, then versions, one of them published.  The published
versions are the set texters are served (``topics/live.py``); every change to that
set bumps a generation that every process watches, so a publish reaches them all
within a couple of seconds.  A draft is checked by the same validator as
``textdesk topics validate``, against the published versions of the other topics,
and errors name the line and the field.

Two editors never lose work: each topic has a ``revision`` that every change bumps,
and a save that names the revision it started from is refused when the topic has
moved on since (``StaleDraft``, with what is there now).  A save without one (API
clients that do not send ``If-Match``) is the last writer's.  Every change takes the
topics' lock first (PostgreSQL's advisory lock; SQLite's writer lock is already
one), so a revision read is still the topic's when the change is written: two saves
from the same revision cannot both pass, and two publishes cannot both take a number.

Topic folders stay first-class: a folder is imported as documents, once at a time
across processes (the topics' lock).  A topic new to the database is published from
its file; a file changed since its last import becomes a draft (valid or not) and
the published version keeps serving, unless the import is asked to publish
(``textdesk topics import``).  An export writes the published sources byte for byte.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from textdesk.domain.media_keys import topic_media_key
from textdesk.domain.topics.checks import SETTINGS_ID
from textdesk.domain.topics.nodes import ID_PATTERN
from textdesk.domain.topics.schema import Topic
from textdesk.domain.topics.yaml_writing import YAML_LOADER
from textdesk.ports import (
    Clock,
    ReadingUnitOfWork,
    TopicAsset,
    TopicRepositories,
    TopicRepository,
    TopicRow,
    TopicVersion,
)
from textdesk.topic_tools.topic_files import (
    Document,
    SourceError,
    TooDeep,
    check_depth,
    packaged_media_exists,
    read_documents,
    stem,
)

log = logging.getLogger(__name__)

SETTINGS_NAME = f"{SETTINGS_ID}.yaml"


class UnknownTopic(LookupError):
    """No topic has this id."""


class InvalidTopic(ValueError):
    """A source that cannot be saved or published: ``errors`` say where and why."""

    def __init__(self, errors: Sequence[SourceError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


class StaleDraft(Exception):
    """The topic changed since the editor read it (``current``: what is there now)."""

    def __init__(self, current: TopicDetail) -> None:
        self.current = current
        super().__init__(f"topic {current.id} changed since (revision {current.revision})")


class NothingToPublish(Exception):
    """The topic has no draft, or its draft is what is published."""


def media_check(
    assets: Sequence[TopicAsset], fallback: Callable[[str], bool] | None = None
) -> Callable[[str], bool]:
    """``media_exists`` for the validator: the topics' stored images, then ``fallback``
    (by default the packaged demo images)."""
    keys = {topic_media_key(a.topic_id, a.name) for a in assets if a.kind == "image"}
    rest = fallback or packaged_media_exists
    return lambda key: key in keys or rest(key)


MAX_VERSION = 2**31 - 1  # versions are a 32-bit INTEGER column


def valid_id(topic_id: str) -> bool:
    """A topic's id (a file's name stem), or the settings' (``_settings``)."""
    return len(topic_id) <= 100 and re.fullmatch(ID_PATTERN, topic_id) is not None


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_name(topic_id: str, row: TopicRow | None = None) -> str:
    """The file a topic's source is read and exported as."""
    if row is not None and row.file_name:
        return row.file_name
    return SETTINGS_NAME if topic_id == SETTINGS_ID else f"{topic_id}.yaml"


def _data(text: str) -> Any:
    try:
        check_depth(text)
        return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 (a safe loader)
    except (yaml.YAMLError, TooDeep, RecursionError):  # the validator says what is wrong
        return None


def id_of(document: Document) -> str:
    """The topic a document defines: its ``id``, else its file's stem."""
    if document.name in (SETTINGS_NAME, f"{SETTINGS_ID}.yml"):
        return SETTINGS_ID
    data = _data(document.text)
    named = data.get("id") if isinstance(data, dict) else None
    return named if isinstance(named, str) and named else stem(document.name)


@dataclass(frozen=True)
class TopicSummary:
    """A topic as the list shows it."""

    id: str
    title: str
    keywords: tuple[str, ...]
    origin: str
    published: int | None
    draft: bool  # a draft that differs from the published version
    draft_valid: bool | None
    edited_by: str | None
    edited_at: Any
    revision: int


@dataclass(frozen=True)
class TopicDetail:
    """One topic: its draft and published sources, and what is wrong with the draft."""

    id: str
    origin: str
    revision: int
    published: int | None
    published_source: str | None
    draft_source: str | None
    draft_base: int | None
    draft_by: str | None
    draft_at: Any
    file_name: str | None
    errors: list[SourceError] = field(default_factory=list)
    warnings: list[SourceError] = field(default_factory=list)
    published_by: str | None = None  # who published the live version, and when
    published_at: Any = None

    @property
    def source(self) -> str | None:
        """What an editor starts from: the draft, else the published version."""
        return self.draft_source if self.draft_source is not None else self.published_source


@dataclass
class ImportReport:
    """What importing a folder did, topic by topic."""

    published: list[str] = field(default_factory=list)
    drafted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)  # images and scripts stored


def _title(source: str | None) -> tuple[str, tuple[str, ...]]:
    data = _data(source or "")
    if not isinstance(data, dict):
        return "", ()
    keywords = data.get("keywords")
    words = tuple(str(k) for k in keywords) if isinstance(keywords, list) else ()
    return str(data.get("title") or ""), words


class TopicLibrary:
    """Reads and changes the topics, each call in one transaction."""

    def __init__(
        self,
        uow: ReadingUnitOfWork[TopicRepositories],
        clock: Clock,
        *,
        media_exists: Callable[[str], bool] | None = None,
        on_published: Callable[[], None] = lambda: None,
    ) -> None:
        """``on_published``: told after a change to the published set commits (to
        wake this process's live topics rather than wait for their next poll)."""
        self._uow = uow
        self._clock = clock
        self._media_exists = media_exists
        self._on_published = on_published

    # ------------------------------------------------------------------- reading

    async def summaries(self) -> list[TopicSummary]:
        async with self._uow.read() as repos:
            rows = await repos.topics.all()
            live = {row.id: version for row, version in await repos.topics.published()}
        summaries = []
        for row in rows:
            published = live.get(row.id)
            title, keywords = _title(row.draft or (published.source if published else None))
            summaries.append(
                TopicSummary(
                    id=row.id,
                    title=title,
                    keywords=keywords,
                    origin=row.origin,
                    published=row.published,
                    draft=row.draft is not None,
                    draft_valid=row.draft_valid,
                    edited_by=row.draft_by or (published.published_by if published else None),
                    edited_at=row.draft_at or (published.published_at if published else None),
                    revision=row.revision,
                )
            )
        return summaries

    async def get(self, topic_id: str) -> TopicDetail:
        async with self._uow.read() as repos:
            return await self._detail(repos, topic_id)

    async def _detail(self, repos: TopicRepositories, topic_id: str) -> TopicDetail:
        topics = repos.topics
        row = await topics.get(topic_id)
        if row is None:
            raise UnknownTopic(topic_id)
        live = await topics.version(topic_id, row.published) if row.published else None
        errors: list[SourceError] = []
        warnings: list[SourceError] = []
        if row.draft is not None:
            errors, warnings = await self._check(repos, topic_id, row.draft, row)
        return TopicDetail(
            id=row.id,
            origin=row.origin,
            revision=row.revision,
            published=row.published,
            published_source=live.source if live else None,
            draft_source=row.draft,
            draft_base=row.draft_base,
            draft_by=row.draft_by,
            draft_at=row.draft_at,
            file_name=row.file_name,
            errors=errors,
            warnings=warnings,
            published_by=live.published_by if live else None,
            published_at=live.published_at if live else None,
        )

    async def versions(self, topic_id: str) -> list[TopicVersion]:
        async with self._uow.read() as repos:
            if await repos.topics.get(topic_id) is None:
                raise UnknownTopic(topic_id)
            return await repos.topics.versions(topic_id)

    async def check(
        self, topic_id: str, source: str
    ) -> tuple[list[SourceError], list[SourceError]]:
        """What is wrong with ``source`` as ``topic_id``, among the published others."""
        async with self._uow.read() as repos:
            row = await repos.topics.get(topic_id)
            return await self._check(repos, topic_id, source, row)

    async def _check(
        self, repos: TopicRepositories, topic_id: str, source: str, row: TopicRow | None
    ) -> tuple[list[SourceError], list[SourceError]]:
        topics = repos.topics
        name = document_name(topic_id, row)
        others = [
            Document(document_name(r.id, r), v.source)
            for r, v in await topics.published()
            if r.id != topic_id
        ]
        # Parsing and validating the whole set is CPU for as long as the topics are
        # big: in a worker thread, so the event loop goes on answering webhooks.
        return await asyncio.to_thread(
            _checked, topic_id, Document(name, source), others, await self._media(repos)
        )

    async def _media(
        self, repos: TopicRepositories, extra: Sequence[TopicAsset] = ()
    ) -> Callable[[str], bool]:
        """Whether an image node's key can be served: a topic's stored image (or one
        of ``extra``, about to be stored), else what the library was told."""
        return media_check([*await repos.assets.find(), *extra], self._media_exists)

    # ------------------------------------------------------------------- changing

    async def save_draft(
        self,
        topic_id: str,
        source: str,
        *,
        by: str,
        origin: str = "designer",
        revision: int | None = None,
    ) -> TopicDetail:
        """Save ``source`` as the topic's draft (a new topic if there is none).

        Raises ``InvalidTopic`` (nothing saved) for a source with errors, and
        ``StaleDraft`` when ``revision`` is given and the topic has moved past it.
        """
        now = self._clock.now()
        async with self._uow.begin() as repos:
            await repos.topics.lock()
            row = await repos.topics.get(topic_id)
            if revision is not None and row is not None and row.revision != revision:
                raise StaleDraft(await self._detail(repos, topic_id))
            if revision is not None and row is None and revision != 0:
                raise UnknownTopic(topic_id)
            errors, _ = await self._check(repos, topic_id, source, row)
            if errors:
                raise InvalidTopic(errors)
            if row is None:
                row = TopicRow(id=topic_id, origin=origin, created_at=now, revision=0)
                await repos.topics.add(row)
            live = await repos.topics.version(topic_id, row.published) if row.published else None
            same = live is not None and live.source == source
            await repos.topics.save(
                replace(
                    row,
                    draft=None if same else source,
                    draft_valid=None if same else True,
                    draft_base=None if same else row.published,
                    draft_by=None if same else by,
                    draft_at=None if same else now,
                    revision=row.revision + 1,
                )
            )
            return await self._detail(repos, topic_id)

    async def publish(
        self, topic_id: str, *, by: str, note: str = "", revision: int | None = None
    ) -> TopicVersion:
        """Make the draft the live version, for new and waiting texters everywhere.

        With ``revision`` (the one the publisher reviewed), a draft changed since is
        not published: ``StaleDraft``, with what is there now.
        """
        now = self._clock.now()
        async with self._uow.begin() as repos:
            await repos.topics.lock()
            row = await repos.topics.get(topic_id)
            if row is None:
                raise UnknownTopic(topic_id)
            if revision is not None and row.revision != revision:
                raise StaleDraft(await self._detail(repos, topic_id))
            if row.draft is None:
                raise NothingToPublish(f"topic {topic_id} has no draft to publish")
            errors, _ = await self._check(repos, topic_id, row.draft, row)
            if errors:
                raise InvalidTopic(errors)
            version = await self._new_version(repos.topics, row, row.draft, note, by, now)
        self._on_published()
        return version

    async def _new_version(
        self,
        topics: TopicRepository,
        row: TopicRow,
        source: str,
        note: str,
        by: str,
        now: Any,
        *,
        keep_draft: bool = False,
    ) -> TopicVersion:
        latest = await topics.versions(row.id)
        version = TopicVersion(
            topic_id=row.id,
            version=(latest[0].version + 1) if latest else 1,
            source=source,
            note=note,
            published_by=by,
            published_at=now,
        )
        await topics.add_version(version)
        published = replace(row, published=version.version, revision=row.revision + 1)
        if not keep_draft:
            published = replace(
                published,
                draft=None,
                draft_valid=None,
                draft_base=None,
                draft_by=None,
                draft_at=None,
            )
        await topics.save(published)
        await topics.bump_generation(now)
        return version

    async def rollback(self, topic_id: str, version: int, *, by: str) -> TopicVersion:
        """Publish an earlier version again (as a new version: history stays in order).

        A draft in progress is kept.  Raises ``UnknownTopic`` for no such topic or version.
        """
        if not 1 <= version <= MAX_VERSION:
            # A forged number the database's integer cannot hold is no version either.
            raise UnknownTopic(f"{topic_id} version {version}")
        now = self._clock.now()
        async with self._uow.begin() as repos:
            await repos.topics.lock()
            row = await repos.topics.get(topic_id)
            earlier = await repos.topics.version(topic_id, version) if row else None
            if row is None or earlier is None:
                raise UnknownTopic(f"{topic_id} version {version}")
            errors, _ = await self._check(repos, topic_id, earlier.source, row)
            if errors:
                raise InvalidTopic(errors)
            # A draft in progress is kept: the rollback is of what serves, not of work.
            made = await self._new_version(
                repos.topics,
                row,
                earlier.source,
                f"rollback to version {version}",
                by,
                now,
                keep_draft=True,
            )
        self._on_published()
        return made

    async def unpublish(self, topic_id: str, *, by: str) -> None:
        """Stop serving the topic (its versions and draft stay, to publish again)."""
        now = self._clock.now()
        async with self._uow.begin() as repos:
            await repos.topics.lock()
            row = await repos.topics.get(topic_id)
            if row is None:
                raise UnknownTopic(topic_id)
            if row.published is None:
                return
            await repos.topics.save(replace(row, published=None, revision=row.revision + 1))
            await repos.topics.bump_generation(now)
        log.info("topic %s unpublished by %s", topic_id, by)
        self._on_published()

    # ------------------------------------------------------------ folders of files

    async def import_documents(
        self,
        documents: Sequence[Document],
        *,
        by: str,
        publish_changed: bool,
        assets: Sequence[TopicAsset] = (),
    ) -> ImportReport:
        """Import a folder's documents, under the topics' lock (one import at a time).

        New topics are published when valid (else kept as invalid drafts); a document
        whose text is what was last imported is left alone; a changed one becomes a
        draft, or with ``publish_changed`` a new version when it is valid.  ``assets``
        (the folder's images and scripts, images already checked by the caller) are
        stored with their topics first, so the topics' checks see them; the folder is
        the truth for them, as for the topics: a changed file replaces the stored one.
        """
        now = self._clock.now()
        report = ImportReport()
        changed = False
        async with self._uow.begin() as repos:
            await repos.topics.lock()
            rows = {row.id: row for row in await repos.topics.all()}
            named = {id_of(d): d for d in documents}
            stored = {(a.topic_id, a.kind, a.name): a.sha256 for a in await repos.assets.find()}
            new_assets = [a for a in assets if stored.get((a.topic_id, a.kind, a.name)) != a.sha256]
            orphans = [a for a in new_assets if a.topic_id not in rows and a.topic_id not in named]
            for orphan in orphans:
                report.errors.append(
                    SourceError(
                        f"{orphan.kind}s", 1, orphan.name, f"no topic {orphan.topic_id!r} here"
                    )
                )
            new_assets = [a for a in new_assets if a not in orphans]
            fresh = [
                (topic_id, d)
                for topic_id, d in sorted(named.items())
                if topic_id not in rows or rows[topic_id].file_hash != digest(d.text)
            ]
            report.unchanged = sorted(set(named) - {t for t, _ in fresh})
            if not fresh and not new_assets:
                return report
            published = {r.id: (r, v) for r, v in await repos.topics.published()}
            documents_now = {
                topic_id: Document(document_name(topic_id, r), v.source)
                for topic_id, (r, v) in published.items()
            }
            for topic_id, d in fresh:
                documents_now[topic_id] = d
            _, errors, _ = await asyncio.to_thread(
                read_documents,
                list(documents_now.values()),
                media_exists=await self._media(repos, new_assets),
            )
            wrong = {e.file for e in errors}
            for topic_id, d in fresh:
                valid = d.name not in wrong
                report.errors.extend(e for e in errors if e.file == d.name)
                row = rows.get(topic_id)
                if row is None:
                    row = TopicRow(
                        id=topic_id,
                        origin="file",
                        created_at=now,
                        file_name=d.name,
                        file_hash=digest(d.text),
                        revision=0,
                    )
                    await repos.topics.add(row)
                else:
                    row = replace(row, file_name=d.name, file_hash=digest(d.text))
                if valid and (row.published is None or publish_changed):
                    note = f"imported from {d.name}"
                    await self._new_version(repos.topics, row, d.text, note, by, now)
                    report.published.append(topic_id)
                    changed = True
                    continue
                await repos.topics.save(
                    replace(
                        row,
                        draft=d.text,
                        draft_valid=valid,
                        draft_base=row.published,
                        draft_by=f"file {d.name}",
                        draft_at=now,
                        revision=row.revision + 1,
                    )
                )
                report.drafted.append(topic_id)
            for asset in new_assets:
                await repos.assets.put(replace(asset, updated_by=by, updated_at=now))
                report.assets.append(f"{asset.topic_id}/{asset.name}")
        if changed:
            self._on_published()
        return report

    async def published_assets(self) -> list[TopicAsset]:
        """The images and scripts of the published topics, with their bytes."""
        async with self._uow.read() as repos:
            live = {row.id for row, _ in await repos.topics.published()}
            return [a for a in await repos.assets.find(with_data=True) if a.topic_id in live]

    async def published_documents(self) -> list[Document]:
        """The published set as files: each source exactly as it was published."""
        async with self._uow.read() as repos:
            return [
                Document(document_name(row.id, row), version.source)
                for row, version in await repos.topics.published()
            ]


def _checked(
    topic_id: str,
    document: Document,
    others: Sequence[Document],
    media_exists: Callable[[str], bool] | None,
) -> tuple[list[SourceError], list[SourceError]]:
    """What the validator says of ``document`` as ``topic_id`` among ``others``."""
    named = id_of(document)
    if named != topic_id:
        line = _line_of_id(document.text)
        message = f"this is topic {named!r}, not {topic_id!r}"
        return [SourceError(document.name, line, "id", message)], []
    _, errors, warnings = read_documents([*others, document], media_exists=media_exists)
    mine = document.name
    return [e for e in errors if e.file == mine], [w for w in warnings if w.file == mine]


def _line_of_id(source: str) -> int:
    for number, line in enumerate(source.splitlines(), start=1):
        if line.startswith("id:"):
            return number
    return 1


def topic_of(source: str, topic_id: str) -> Topic | None:
    """The topic a published source defines (None when it no longer parses)."""
    data = _data(source)
    if not isinstance(data, dict):
        return None
    try:
        return Topic.model_validate({"id": topic_id, **data})
    except ValueError:
        return None
