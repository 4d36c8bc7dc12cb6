"""REST API: users (accounts) and conversations with their transcripts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from textdesk.admin.users import DuplicatePhone
from textdesk.domain.phones import InvalidPhone
from textdesk.web.api.errors import field_error
from textdesk.web.api.fields import MAX_PAGE, Limit, Offset, PathId
from textdesk.web.api.schemas import ConversationPublic, TranscriptLine, UserCreate, UserPublic
from textdesk.web.deps import ApiClient, ContainerDep

router = APIRouter(prefix="/api/v1", tags=["people"])


@router.get("/users", response_model=list[UserPublic])
async def list_users(
    client: ApiClient, container: ContainerDep, limit: Limit = 50, offset: Offset = 0
) -> list[UserPublic]:
    """Accounts in the order they were added."""
    return [
        UserPublic(id=u.id, name=u.name, email=u.email, phone=u.phone)
        for u in await container.admin.people.users(limit=limit, offset=offset)
    ]


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, client: ApiClient, container: ContainerDep) -> UserPublic:
    accounts = container.admin.accounts
    try:
        user_id = await accounts.add(name=body.name, phone=body.phone, email=body.email)
    except InvalidPhone as exc:
        raise field_error("phone", str(exc)) from exc
    except DuplicatePhone as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    user = await accounts.get(user_id)
    assert user is not None
    return UserPublic(id=user.id, name=user.name, email=user.email, phone=user.phone)


@router.get("/conversations", response_model=list[ConversationPublic])
async def list_conversations(
    client: ApiClient, container: ContainerDep, limit: Limit = 50, offset: Offset = 0
) -> list[ConversationPublic]:
    """Conversations, the most recently active first."""
    return [
        ConversationPublic(
            id=r.id,
            phone=r.phone,
            number=r.number,
            user_id=r.user_id,
            mode=r.mode,
            updated_at=r.updated_at,
        )
        for r in await container.admin.people.conversations(limit=limit, offset=offset)
    ]


@router.get("/conversations/{conversation_id}/transcript", response_model=list[TranscriptLine])
async def get_transcript(
    conversation_id: PathId,
    client: ApiClient,
    container: ContainerDep,
    limit: Limit = MAX_PAGE,
    offset: Offset = 0,
) -> list[TranscriptLine]:
    """Everything said, in order, with each outbound text's delivery status."""
    rows = await container.admin.people.transcript(conversation_id, limit=limit, offset=offset)
    return [
        TranscriptLine(
            author=r.author,
            body=r.body,
            media=r.media,
            created_at=r.created_at,
            delivery=(f"{r.status} ({r.error_code})" if r.error_code else r.status)
            if r.outbox_id
            else None,
        )
        for r in rows
    ]
