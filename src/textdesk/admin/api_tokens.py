"""API tokens: long random secrets, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from textdesk.ports import ApiTokenRepositories, Clock, ReadingUnitOfWork, TokenInfo

PREFIX = "tdk_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokens:
    """Creates, checks, lists and revokes the tokens of the REST API."""

    def __init__(self, uow: ReadingUnitOfWork[ApiTokenRepositories], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create(self, name: str) -> str:
        """Create a token named ``name``; the secret is returned once and never stored."""
        token = PREFIX + secrets.token_urlsafe(32)
        async with self._uow.begin() as repos:
            await repos.tokens.add(name=name, digest=_digest(token), now=self._clock.now())
        return token

    async def check(self, token: str) -> str | None:
        """The token's name when it is valid, else None; a valid one is stamped as used."""
        if not token.startswith(PREFIX):
            return None
        digest = _digest(token)
        async with self._uow.begin() as repos:
            name = await repos.tokens.name_of(digest)
            if name is not None:
                await repos.tokens.mark_used(digest, self._clock.now())
        return name

    async def all(self) -> list[TokenInfo]:
        """Every token (never its secret), oldest first."""
        async with self._uow.read() as repos:
            return await repos.tokens.all()

    async def revoke(self, token_id: int) -> bool:
        """Delete a token: requests bearing it are refused from now on."""
        async with self._uow.begin() as repos:
            return await repos.tokens.remove(token_id)
