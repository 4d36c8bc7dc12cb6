"""API tokens on in-memory repositories: what is stored, what is accepted, revoking."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from textdesk.admin.api_tokens import PREFIX, ApiTokens
from textdesk.testing.admin import (
    AdminTables,
    FakeApiTokenRepositories,
    FakeReadingUnitOfWork,
    fake_api_tokens,
)
from textdesk.testing.clock import FixedClock


@dataclass
class Rig:
    uow: FakeReadingUnitOfWork[AdminTables, FakeApiTokenRepositories] = field(
        default_factory=fake_api_tokens
    )
    clock: FixedClock = field(default_factory=FixedClock)

    @property
    def tables(self) -> AdminTables:
        return self.uow.tables

    def tokens(self) -> ApiTokens:
        return ApiTokens(self.uow, self.clock)


async def test_a_new_token_is_stored_only_as_its_digest() -> None:
    r = Rig()
    token = await r.tokens().create("crm")

    assert token.startswith(PREFIX)
    [stored] = r.tables.tokens
    assert stored.name == "crm"
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(r.tables)
    assert stored.created_at == r.clock.now()
    assert stored.last_used_at is None


async def test_each_new_token_is_a_different_secret() -> None:
    r = Rig()
    assert await r.tokens().create("a") != await r.tokens().create("a")


async def test_a_valid_token_names_its_holder_and_is_stamped_as_used() -> None:
    r = Rig()
    token = await r.tokens().create("crm")
    r.clock.advance(60)

    assert await r.tokens().check(token) == "crm"
    assert r.tables.tokens[0].last_used_at == r.clock.now()


async def test_a_token_without_the_prefix_is_refused_without_a_lookup() -> None:
    r = Rig()
    token = await r.tokens().create("crm")
    commits = r.uow.commits

    assert await r.tokens().check(token.removeprefix(PREFIX)) is None
    assert r.uow.commits == commits  # no transaction opened
    assert r.tables.tokens[0].last_used_at is None


async def test_an_unknown_token_is_refused_and_stamps_nothing() -> None:
    r = Rig()
    await r.tokens().create("crm")

    assert await r.tokens().check(PREFIX + "not-a-token-we-issued") is None
    assert r.tables.tokens[0].last_used_at is None


async def test_tokens_are_listed_oldest_first_without_their_secrets() -> None:
    r = Rig()
    await r.tokens().create("first")
    await r.tokens().create("second")

    listed = await r.tokens().all()
    assert [(t.id, t.name) for t in listed] == [(1, "first"), (2, "second")]
    assert r.uow.reads == 1


async def test_a_revoked_token_is_refused_from_then_on() -> None:
    r = Rig()
    token = await r.tokens().create("crm")
    [info] = await r.tokens().all()

    assert await r.tokens().revoke(info.id)
    assert await r.tokens().check(token) is None
    assert r.tables.tokens == []


async def test_revoking_an_unknown_token_says_so() -> None:
    r = Rig()
    await r.tokens().create("crm")

    assert not await r.tokens().revoke(99)
    assert len(r.tables.tokens) == 1
