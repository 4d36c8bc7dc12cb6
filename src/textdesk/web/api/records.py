"""REST API: records (incidents)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from textdesk.adapters.db.tables import records
from textdesk.domain.phones import InvalidPhone
from textdesk.domain.records import InvalidRecord, Record
from textdesk.records.incidents import Incidents, UnknownCaller
from textdesk.web.api.errors import field_error
from textdesk.web.api.fields import CLEAN, Limit, Offset, QueryId, column_length
from textdesk.web.api.schemas import (
    CommentCreate,
    CommentPublic,
    RecordCreate,
    RecordPublic,
    RecordUpdate,
)
from textdesk.web.deps import ApiClient, IncidentsDep

router = APIRouter(prefix="/api/v1/records", tags=["records"])

Number = Annotated[str, Path(max_length=column_length(records.c.number)), CLEAN]
CallerPhone = Annotated[str, Query(max_length=column_length(records.c.caller_phone)), CLEAN]


def _public(record: Record, incidents: Incidents) -> RecordPublic:
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
        url=incidents.url_for(record.number),
    )


def _missing(number: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no record {number}")


@router.get("", response_model=list[RecordPublic])
async def list_records(
    client: ApiClient,
    incidents: IncidentsDep,
    caller_id: QueryId | None = None,
    caller_phone: CallerPhone | None = None,
    open_only: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[RecordPublic]:
    """Records, newest first."""
    found = await incidents.page(
        caller_id=caller_id,
        caller_phone=caller_phone,
        open_only=open_only,
        limit=limit,
        offset=offset,
    )
    return [_public(r, incidents) for r in found]


@router.get("/{number}", response_model=RecordPublic)
async def get_record(number: Number, client: ApiClient, incidents: IncidentsDep) -> RecordPublic:
    record = await incidents.get(number)
    if record is None:
        raise _missing(number)
    return _public(record, incidents)


@router.post("", response_model=RecordPublic, status_code=status.HTTP_201_CREATED)
async def create_record(
    body: RecordCreate, client: ApiClient, incidents: IncidentsDep
) -> RecordPublic:
    try:
        record = await incidents.open(
            short_description=body.short_description,
            description=body.description,
            category=body.category,
            urgency=body.urgency,
            caller_id=body.caller_id,
            caller_phone=body.caller_phone,
        )
    except InvalidPhone as exc:
        raise field_error("caller_phone", str(exc)) from exc
    except UnknownCaller as exc:
        raise field_error("caller_id", str(exc)) from exc
    return _public(record, incidents)


@router.patch("/{number}", response_model=RecordPublic)
async def update_record(
    number: Number, body: RecordUpdate, client: ApiClient, incidents: IncidentsDep
) -> RecordPublic:
    """Change fields; state and assignment changes become record events (notifications)."""
    try:
        record = await incidents.change(number, body.model_dump(exclude_unset=True))
    except InvalidRecord as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if record is None:
        raise _missing(number)
    return _public(record, incidents)


@router.post("/{number}/comments", response_model=RecordPublic, status_code=status.HTTP_201_CREATED)
async def comment_record(
    number: Number, body: CommentCreate, client: ApiClient, incidents: IncidentsDep
) -> RecordPublic:
    record = await incidents.comment(number, author=body.author, body=body.body, public=body.public)
    if record is None:
        raise _missing(number)
    return _public(record, incidents)
