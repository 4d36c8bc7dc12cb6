"""People and their conversations as the REST API shows them: accounts, transcripts."""

from __future__ import annotations

from textdesk.ports import (
    ConversationSummary,
    DeliveredLine,
    PeopleRepositories,
    UnitOfWork,
    UserRow,
)


class People:
    """Pages of accounts, of conversations and of a conversation's transcript.

    Each page is read in a transaction of its own, as the API always has.
    """

    def __init__(self, uow: UnitOfWork[PeopleRepositories]) -> None:
        self._uow = uow

    async def users(self, *, limit: int, offset: int) -> list[UserRow]:
        """Accounts in the order they were added."""
        async with self._uow.begin() as repos:
            return await repos.users.all(limit=limit, offset=offset)

    async def conversations(self, *, limit: int, offset: int) -> list[ConversationSummary]:
        """Conversations, the most recently active first."""
        async with self._uow.begin() as repos:
            return await repos.conversations.page(limit=limit, offset=offset)

    async def transcript(
        self, conversation_id: int, *, limit: int, offset: int
    ) -> list[DeliveredLine]:
        """Everything said, in order, with each outbound text's outbox row."""
        async with self._uow.begin() as repos:
            return await repos.conversations.transcript(conversation_id, limit=limit, offset=offset)
