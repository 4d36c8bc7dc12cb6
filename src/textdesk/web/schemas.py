"""Shapes of the REST API (separate from domain objects and tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


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
    short_description: str = Field(min_length=1, max_length=160)
    description: str = ""
    category: str | None = None
    urgency: int = Field(default=3, ge=1, le=3)
    caller_id: int | None = None
    caller_phone: str | None = Field(default=None, description="E.164; used when no caller_id")


class RecordUpdate(BaseModel):
    short_description: str | None = Field(default=None, min_length=1, max_length=160)
    description: str | None = None
    category: str | None = None
    state: Literal["New", "In Progress", "On Hold", "Resolved", "Closed", "Canceled"] | None = None
    urgency: int | None = Field(default=None, ge=1, le=3)
    assigned_to: str | None = None


class CommentCreate(BaseModel):
    body: str = Field(min_length=1, max_length=4000)
    author: str = "Service desk"
    public: bool = True


class UserPublic(BaseModel):
    id: int
    name: str
    email: str | None
    phone: str | None


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(description="Mobile number, E.164 or national (US)")
    email: str | None = None


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
