"""Shapes of the REST API (separate from domain objects and tables).

Input lengths are those of the columns the values go to (see ``web/api/fields.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from textdesk.adapters.db.tables import record_comments, records, users
from textdesk.web.api.fields import CLEAN, Id, Text, column_length

# What a client may send as a phone number before it is normalised to E.164.
Phone = Annotated[str, Field(max_length=64), CLEAN]
ShortDescription = Annotated[
    str, Field(min_length=1, max_length=column_length(records.c.short_description)), CLEAN
]
Category = Annotated[str, Field(max_length=column_length(records.c.category)), CLEAN]
AssignedTo = Annotated[str, Field(max_length=column_length(records.c.assigned_to)), CLEAN]
Author = Annotated[str, Field(max_length=column_length(record_comments.c.author)), CLEAN]


class CommentPublic(BaseModel):
    author: str
    body: str
    created_at: datetime


class RecordPublic(BaseModel):
    number: str = Field(examples=["INC0010001"])
    short_description: str
    description: str
    category: str | None
    state: str
    urgency: int
    priority: int
    caller_id: int | None
    caller_phone: str | None
    assigned_to: str | None
    opened_at: datetime
    updated_at: datetime
    comments: list[CommentPublic] = []
    attachments: int = 0
    url: str


class RecordCreate(BaseModel):
    short_description: ShortDescription
    description: Text = ""
    category: Category | None = None
    urgency: int = Field(default=3, ge=1, le=3)
    caller_id: Id | None = Field(default=None, description="an existing user's id")
    caller_phone: Phone | None = Field(default=None, description="E.164; used when no caller_id")


class RecordUpdate(BaseModel):
    short_description: ShortDescription | None = None
    description: Text | None = None
    category: Category | None = None
    state: Literal["New", "In Progress", "On Hold", "Resolved", "Closed", "Canceled"] | None = None
    urgency: int | None = Field(default=None, ge=1, le=3)
    assigned_to: AssignedTo | None = None


class CommentCreate(BaseModel):
    body: Annotated[str, Field(min_length=1, max_length=4000), CLEAN]
    author: Author = "Service desk"
    public: bool = True


class UserPublic(BaseModel):
    id: int
    name: str
    email: str | None
    phone: str | None


class UserCreate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=column_length(users.c.name)), CLEAN]
    phone: Phone = Field(description="Mobile number, E.164 or national (US)")
    email: Annotated[str, Field(max_length=column_length(users.c.email)), CLEAN] | None = None


class TranscriptLine(BaseModel):
    author: str
    body: str
    media: list[str]
    created_at: datetime
    delivery: str | None = None


class ConversationPublic(BaseModel):
    id: int
    phone: str
    number: str
    user_id: int | None
    mode: str
    updated_at: datetime
