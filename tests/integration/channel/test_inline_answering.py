"""A text is answered before its webhook is: the 200 means stored *and* answered.

The web process here runs no background loop (as beside a ``textdesk worker``), so
whatever is answered by the time the webhook returns was answered inline.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text as text_sql
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import empty_postgres
from tests.images import photo
from tests.integration.conftest import NUMBER, TEXTER, Desk, EchoConverser, desk_settings
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import inbox as inbox_store
from textdesk.adapters.db.answering_repositories import SqlAnswering, answering, group_commit
from textdesk.adapters.db.conversations import lock_key as conversation_lock_key
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.dialect import lock_keys
from textdesk.adapters.image_checks import PillowImageChecker
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import APOLOGY, ConverseOutcome, InboxProcessor, TextInContext
from textdesk.channel.inbound import INBOX, PendingInbound, register_writers
from textdesk.domain.twilio_forms import InboundSms
from textdesk.ports import WriteKind
from textdesk.web.app import create_app

PNG = photo()
OTHER = "+15551230002"


class FussyConverser(EchoConverser):
    """Echoes, except that the text ``boom`` makes it fail."""

    async def converse(
        self, turn: TextInContext, state: dict[str, Any] | None, mode: str
    ) -> ConverseOutcome:
        if turn.text.body == "boom":
            raise RuntimeError("the converser broke")
        return await super().converse(turn, state, mode)


@pytest.fixture
def inline() -> bool:
    return True


@pytest.fixture
async def web_only(database_url: str, fake_twilio: FakeTwilio, inline: bool) -> AsyncIterator[Desk]:
    """textdesk's web process without its background loops (``--no-dispatcher``)."""
    db = create_engine(database_url)
    await admin_use_cases(db, SystemClock()).numbers.add(phone=NUMBER, purpose="conversational")
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = desk_settings(url, database_url, fake_twilio, TEXTDESK_INLINE_PROCESSING=inline)
    app = create_app(settings, converser=FussyConverser(), background=False)
    with serve_app(app, sock=sock, lifespan="on"):
        yield Desk(url=url, settings=settings, fake=fake_twilio, app=app, db=db)
    await db.dispose()


async def _outbox(desk: Desk, to: str = TEXTER) -> list[str]:
    rows = await desk.rows("SELECT body FROM outbox WHERE to_phone = :to ORDER BY id", to=to)
    return [r.body for r in rows]


async def _unprocessed(desk: Desk) -> list[str]:
    rows = await desk.rows("SELECT body FROM inbox WHERE processed_at IS NULL ORDER BY id")
    return [r.body for r in rows]


async def test_the_reply_is_in_the_outbox_when_the_webhook_is_answered(web_only: Desk) -> None:
    response = await web_only.text("hello")
    assert response.status_code == 200
    assert await _outbox(web_only) == ["echo: hello"]
    assert await _unprocessed(web_only) == []
    transcript = await web_only.rows("SELECT author, body FROM transcript ORDER BY id")
    assert [(r.author, r.body) for r in transcript] == [
        ("texter", "hello"),
        ("bot", "echo: hello"),
    ]


async def test_a_sender_that_cannot_be_texted_back_is_kept_but_not_answered(
    web_only: Desk,
) -> None:
    """An alphanumeric sender, a short code or a WhatsApp address: stored, no reply owed."""
    senders = ["MyBrand", "12345", "whatsapp:+15551230009"]
    for sender in senders:
        response = await web_only.text(f"from {sender}", from_=sender)
        assert response.status_code == 200
    assert (await web_only.text("hello")).status_code == 200
    assert await web_only.scalar("SELECT count(*) FROM outbox") == 1
    assert await _outbox(web_only) == ["echo: hello"]
    rows = await web_only.rows(
        "SELECT from_phone, error FROM inbox WHERE processed_at IS NOT NULL ORDER BY id"
    )
    assert [r.from_phone for r in rows] == [*senders, TEXTER]
    assert all("not a phone number" in r.error for r in rows[:3])
    assert rows[3].error is None
    assert await web_only.scalar("SELECT count(*) FROM conversations") == 1


async def test_concurrent_texts_are_each_answered_once(web_only: Desk) -> None:
    phones = [f"+1555123{i:04d}" for i in range(30)]
    answers = await asyncio.gather(*(web_only.text(f"hi {p}", from_=p) for p in phones))
    assert {r.status_code for r in answers} == {200}
    rows = await web_only.rows("SELECT to_phone, body FROM outbox ORDER BY id")
    assert sorted((r.to_phone, r.body) for r in rows) == sorted(
        (p, f"echo: hi {p}") for p in phones
    )


@pytest.mark.parametrize("inline", [False])
async def test_with_inline_processing_off_the_200_only_means_stored(web_only: Desk) -> None:
    assert (await web_only.text("hello")).status_code == 200
    assert await _unprocessed(web_only) == ["hello"]
    assert await _outbox(web_only) == []


async def test_a_text_with_a_photo_is_left_to_the_loop_and_keeps_its_place(
    web_only: Desk,
) -> None:
    """Downloads must not hold the write lock; the texter's next text waits behind it."""
    assert (await web_only.text("my screen", media=[(PNG, "image/png")])).status_code == 200
    assert (await web_only.text("and then")).status_code == 200
    assert (await web_only.text("elsewhere", from_=OTHER)).status_code == 200
    assert await _unprocessed(web_only) == ["my screen", "and then"]
    assert await _outbox(web_only, OTHER) == ["echo: elsewhere"]

    assert await web_only.container.processor.run_once() == 1  # one conversation
    assert await _unprocessed(web_only) == []
    assert await _outbox(web_only) == ["echo: my screen", "echo: and then"]
    media = await web_only.scalar("SELECT media FROM inbox WHERE body = 'my screen'")
    assert "att/" in str(media)  # fetched and kept by the loop


async def test_a_failing_text_gets_an_apology_and_the_others_their_answers(
    web_only: Desk,
) -> None:
    phones = [f"+1555124{i:04d}" for i in range(8)]
    bodies = ["boom" if i == 3 else f"fine {i}" for i in range(8)]
    answers = await asyncio.gather(
        *(web_only.text(b, from_=p) for p, b in zip(phones, bodies, strict=True))
    )
    assert {r.status_code for r in answers} == {200}
    for i, phone in enumerate(phones):
        assert await _outbox(web_only, phone) == [APOLOGY if i == 3 else f"echo: fine {i}"]
    errors = await web_only.rows("SELECT body, error FROM inbox WHERE error IS NOT NULL")
    assert [(r.body, r.error) for r in errors] == [("boom", "RuntimeError: the converser broke")]
    assert await _unprocessed(web_only) == []


async def test_when_answering_inline_fails_the_text_is_kept_and_answered_later(
    web_only: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(inbox_store, "waiting_from", broken)
    assert (await web_only.text("still there?")).status_code == 200
    assert await _unprocessed(web_only) == ["still there?"]
    assert await _outbox(web_only) == []

    monkeypatch.undo()
    assert await web_only.container.processor.run_once() == 1
    assert await _outbox(web_only) == ["echo: still there?"]


async def test_a_duplicate_delivery_is_answered_once(web_only: Desk) -> None:
    sid = "SM" + "d" * 32
    first = await web_only.text("once", sid=sid)
    again = await web_only.text("once", sid=sid)
    assert (first.status_code, again.status_code) == (200, 200)
    assert await _outbox(web_only) == ["echo: once"]
    assert await web_only.scalar("SELECT count(*) FROM inbox") == 1


async def test_ids_of_queued_replies_follow_their_order(web_only: Desk) -> None:
    """Each bot line of the transcript points at its own outbox row."""
    assert (await web_only.text("x3")).status_code == 200
    rows = await web_only.rows(
        "SELECT t.body AS said, o.body AS sent, o.id FROM transcript t "
        "JOIN outbox o ON o.id = t.outbox_id ORDER BY t.id"
    )
    assert [r.said for r in rows] == [f"echo {i}: x3" for i in (1, 2, 3)]
    assert [r.sent for r in rows] == [r.said for r in rows]
    assert [r.id for r in rows] == sorted(r.id for r in rows)


class _Handlers:
    """Stands in for a process's group committer: the handlers, run by the test itself."""

    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}  # by name

    def register(self, kind: WriteKind[Any, Any], write: Any, *, committed: Any = None) -> None:
        self.handlers[kind.name] = write


class _NoMedia:
    async def fetch(self, url: str) -> tuple[bytes | None, str | None]:
        raise AssertionError("no text here has attachments")


def _processor(db: AsyncEngine, clock: SystemClock) -> InboxProcessor:
    return InboxProcessor(
        uow=answering(db),
        converser=EchoConverser(),
        fetcher=_NoMedia(),
        images=PillowImageChecker(),
        max_pixels=25_000_000,
        clock=clock,
    )


@pytest.mark.postgres
async def test_a_texters_next_text_taken_by_another_process_waits_for_the_first(
    request: pytest.FixtureRequest,
) -> None:
    """Two web processes, one texter: the younger text is answered after the older one.

    The first process has stored and answered "one" but not yet committed; the second
    gets "two" meanwhile.  It waits for that commit, then sees "one" and answers "two"
    at once, in order, instead of answering it blind or leaving it to the inbox loop.
    """
    url: str = request.getfixturevalue("postgres_database")
    empty_postgres(url)
    first_db, second_db = create_engine(url), create_engine(url)
    clock = SystemClock()
    await admin_use_cases(first_db, clock).numbers.add(phone=NUMBER, purpose="conversational")
    processes = []
    for db in (first_db, second_db):
        handlers = _Handlers()
        processor = _processor(db, clock)
        register_writers(handlers, processor)  # type: ignore[arg-type]
        processes.append(handlers.handlers[INBOX.name])

    def text(sid: str, body: str) -> PendingInbound:
        return PendingInbound(
            InboundSms(sid, TEXTER, NUMBER, body, (), {"Body": body}), clock.now(), True
        )

    async def second() -> list[bool]:
        async with second_db.begin() as conn:
            return list(
                (await processes[1](SqlAnswering(conn), [text("SM" + "2" * 32, "two")])).results
            )

    try:
        async with first_db.begin() as conn:
            written = await processes[0](SqlAnswering(conn), [text("SM" + "1" * 32, "one")])
            assert list(written.results) == [True]
            waiting = asyncio.create_task(second())
            await asyncio.sleep(0.5)
            assert not waiting.done(), "the second process did not wait for the first"
        assert await asyncio.wait_for(waiting, 10) == [True]
        async with first_db.connect() as conn:
            replies = (await conn.execute(text_sql("SELECT body FROM outbox ORDER BY id"))).all()
            unprocessed = await inbox_store.pending(conn, limit=10)
    finally:
        await first_db.dispose()
        await second_db.dispose()
    assert [r.body for r in replies] == ["echo: one", "echo: two"]
    assert unprocessed == []


@pytest.mark.postgres
async def test_a_conversation_held_too_long_elsewhere_does_not_hold_up_the_webhook(
    request: pytest.FixtureRequest,
) -> None:
    """Another transaction sits on the texter's conversation: the text is stored in
    about a second and answered by the inbox loop once that transaction ends."""
    url: str = request.getfixturevalue("postgres_database")
    empty_postgres(url)
    db, other = create_engine(url), create_engine(url)
    clock = SystemClock()
    await admin_use_cases(db, clock).numbers.add(phone=NUMBER, purpose="conversational")
    handlers = _Handlers()
    processor = _processor(db, clock)
    register_writers(handlers, processor)  # type: ignore[arg-type]
    sms = InboundSms("SM" + "3" * 32, TEXTER, NUMBER, "hello", (), {"Body": "hello"})
    try:
        async with other.begin() as holder:
            await lock_keys(holder, [conversation_lock_key(TEXTER, NUMBER)])
            async with db.begin() as conn:
                written = await asyncio.wait_for(
                    handlers.handlers[INBOX.name](
                        SqlAnswering(conn), [PendingInbound(sms, clock.now(), True)]
                    ),
                    10,
                )
                # The short wait is this attempt's alone, not the rest of the batch's.
                setting = (await conn.execute(text_sql("SHOW lock_timeout"))).scalar_one()
            assert list(written.results) == [True]
            assert setting == "0"
            async with db.connect() as conn:
                assert [r.body for r in await inbox_store.pending(conn, limit=10)] == ["hello"]
        assert await processor.run_once() == 1
        async with db.connect() as conn:
            replies = (await conn.execute(text_sql("SELECT body FROM outbox"))).all()
    finally:
        await db.dispose()
        await other.dispose()
    assert [r.body for r in replies] == ["echo: hello"]


async def _committed_lane(
    database_url: str, *, answer: bool, texts: list[str]
) -> tuple[list[bool], list[str]]:
    """Texts through a real group committer, one batch each: what each submit returned,
    and what the processor's callbacks heard, in order."""
    db = create_engine(database_url)
    clock = SystemClock()
    heard: list[str] = []

    committer = group_commit(db)
    processor = InboxProcessor(
        uow=answering(db),
        converser=EchoConverser(),
        fetcher=_NoMedia(),
        images=PillowImageChecker(),
        max_pixels=25_000_000,
        clock=clock,
        on_enqueued=lambda: heard.append("send"),
        on_processed=lambda ids: heard.append(f"answered {len(ids)}"),
        on_deferred=lambda: heard.append("wake the inbox loop"),
    )
    register_writers(committer, processor)
    await admin_use_cases(db, clock).numbers.add(phone=NUMBER, purpose="conversational")
    await committer.start()
    try:
        fresh = [
            await committer.submit(
                INBOX,
                PendingInbound(
                    InboundSms(sid, TEXTER, NUMBER, "hi", (), {"Body": "hi"}), clock.now(), answer
                ),
            )
            for sid in texts
        ]
        async with db.connect() as conn:
            stored = (await conn.execute(text_sql("SELECT count(*) FROM inbox"))).scalar_one()
        assert stored == len(set(texts))
    finally:
        await committer.stop()
        await db.dispose()
    return fresh, heard


async def test_an_answered_text_is_announced_once_its_batch_has_committed(
    database_url: str,
) -> None:
    """The sender is woken and the Workspace told, once, and the inbox loop is not bothered."""
    fresh, heard = await _committed_lane(database_url, answer=True, texts=["SM" + "4" * 32])
    assert fresh == [True]
    assert heard == ["send", "answered 1"]


async def test_a_text_stored_for_the_loop_wakes_it_and_a_duplicate_does_not(
    database_url: str,
) -> None:
    """Inline answering off: each new text wakes the inbox loop after its commit; a
    MessageSid seen before is no new work."""
    sid = "SM" + "5" * 32
    fresh, heard = await _committed_lane(database_url, answer=False, texts=[sid, sid])
    assert fresh == [True, False]
    assert heard == ["wake the inbox loop"]
