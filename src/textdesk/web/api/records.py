"""REST API: records (incidents)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from textdesk.adapters.db import directory
from textdesk.adapters.db import records as store
from textdesk.adapters.db.tables import records
from textdesk.domain.phones import InvalidPhone, to_e164
from textdesk.domain.records import InvalidRecord, Record
from textdesk.web.api.errors import field_error
from textdesk.web.api.fields import CLEAN, Limit, Offset, QueryId, column_length
from textdesk.web.api.schemas import (
    CommentCreate,
    CommentPublic,
    RecordCreate,
    RecordPublic,
    RecordUpdate,
)
from textdesk.web.deps import ApiClient, ContainerDep, Tx

router = APIRouter(prefix="/api/v1/records", tags=["records"])

Number = Annotated[str, Path(max_length=column_length(records.c.number)), CLEAN]
CallerPhone = Annotated[str, Query(max_length=column_length(records.c.caller_phone)), CLEAN]


def _public(record: Record, container: ContainerDep) -> RecordPublic:
    return RecordPublic(
        number=record.number,
        short_description=record.short_description,
        description=record.description,
        category=record.category,
        state=record.state,
        urgency=record.urgency,
        priority=record.priority,
        caller_id=record.caller_id,
        caller_phone=record.caller_phone,
        assigned_to=record.assigned_to,
        opened_at=record.opened_at,
        updated_at=record.updated_at,
        comments=[
            CommentPublic(author=c.author, body=c.body, created_at=c.created_at)
            for c in record.comments
        ],
        attachments=len(record.attachments),
        url=container.record_links.url_for(record.number),
    )


def _missing(number: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no record {number}")


@router.get("", response_model=list[RecordPublic])
async def list_records(
    client: ApiClient,
    container: ContainerDep,
    conn: Tx,
    caller_id: QueryId | None = None,
    caller_phone: CallerPhone | None = None,
    open_only: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[RecordPublic]:
    """Records, newest first."""
    found = await store.list_records(
        conn,
        caller_id=caller_id,
        caller_phone=caller_phone,
        open_only=open_only,
        limit=limit,
        offset=offset,
    )
    return [_public(r, container) for r in found]


@router.get("/{number}", response_model=RecordPublic)
async def get_record(
    number: Number, client: ApiClient, container: ContainerDep, conn: Tx
) -> RecordPublic:
    record = await store.get(conn, number)
    if record is None:
        raise _missing(number)
    return _public(record, container)


@router.post("", response_model=RecordPublic, status_code=status.HTTP_201_CREATED)
async def create_record(
    body: RecordCreate, client: ApiClient, container: ContainerDep, conn: Tx
) -> RecordPublic:
    try:
        phone = to_e164(body.caller_phone) if body.caller_phone else None
    except InvalidPhone as exc:
        raise field_error("caller_phone", str(exc)) from exc
    if body.caller_id is not None and await directory.get_user(conn, body.caller_id) is None:
        raise field_error("caller_id", f"no user {body.caller_id}")
    record = await store.create(
        conn,
        short_description=body.short_description,
        description=body.description,
        category=body.category,
        urgency=body.urgency,
        caller_id=body.caller_id,
        caller_phone=phone,
        now=container.clock.now(),
    )
    return _public(record, container)


@router.patch("/{number}", response_model=RecordPublic)
async def update_record(
    number: Number, body: RecordUpdate, client: ApiClient, container: ContainerDep, conn: Tx
) -> RecordPublic:
    """Change fields; state and assignment changes become record events (notifications)."""
    try:
        record = await store.apply_update(
            conn, number, body.model_dump(exclude_unset=True), container.clock.now()
        )
    except InvalidRecord as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if record is None:
        raise _missing(number)
    return _public(record, container)


@router.post("/{number}/comments", response_model=RecordPublic, status_code=status.HTTP_201_CREATED)
async def comment_record(
    number: Number, body: CommentCreate, client: ApiClient, container: ContainerDep, conn: Tx
) -> RecordPublic:
    record = await store.add_comment(
        conn,
        number,
        author=body.author,
        body=body.body,
        public=body.public,
        now=container.clock.now(),
    )
    if record is None:
        raise _missing(number)
    return _public(record, container)
