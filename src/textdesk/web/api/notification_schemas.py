"""Shapes of the notifications and subscriptions REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, Field, model_validator

from textdesk.adapters.db.tables import notifications, records
from textdesk.web.api.fields import CLEAN, Id, column_length, no_bad_text

# A bulk request this large is still one transaction of a few seconds; more should
# be split by the caller.
MAX_BULK = 50_000
RecordNumber = Annotated[str, Field(max_length=column_length(records.c.number)), CLEAN]
TemplateName = Annotated[str, Field(max_length=column_length(notifications.c.template)), CLEAN]


class NotificationCreate(BaseModel):
    """To one account (``user_id``), many (``user_ids``) or a record's caller.

    Exactly one of ``template`` (a file in the templates folder) or ``body`` (an
    inline sandboxed Jinja2 template).  Templates see ``record`` (with
    ``record_number``; ``${field}`` shorthand), ``params``, ``user.name`` and ``card``.
    """

    user_id: Id | None = None
    user_ids: list[Id] | None = Field(default=None, max_length=MAX_BULK)
    record_number: RecordNumber | None = Field(default=None, examples=["INC0010001"])
    template: TemplateName | None = Field(default=None, examples=["state_changed"])
    body: Annotated[str, Field(max_length=1600), CLEAN] | None = Field(
        default=None, examples=["${number}: {{ params.note }}"]
    )
    params: Annotated[dict[str, Any], AfterValidator(no_bad_text)] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_of_each(self) -> Self:
        if (self.template is None) == (self.body is None):
            raise ValueError("give exactly one of template or body")
        if self.user_id is not None and self.user_ids is not None:
            raise ValueError("give user_id or user_ids, not both")
        if self.user_id is None and self.user_ids is None and self.record_number is None:
            raise ValueError("give user_id, user_ids or record_number")
        return self

    def recipient_ids(self) -> list[int]:
        """The accounts named (empty: the record's caller)."""
        if self.user_ids is not None:
            return list(self.user_ids)
        return [self.user_id] if self.user_id is not None else []


class NotificationResult(BaseModel):
    """How many were queued for sending, and how many not, by reason.

    Reasons: ``not_subscribed``, ``opted_out`` (texted STOP), ``no_phone``,
    ``unknown`` (no such account, or the record's caller has none), ``no_number``
    (no conversational number to send from), ``empty`` (the template rendered empty).
    """

    queued: int
    skipped: dict[str, int]


class NotificationPublic(BaseModel):
    id: int
    created_at: datetime
    source: Literal["event", "api"] | str
    template: str | None
    record_number: str | None
    body: str
    status: str = Field(
        description="skipped, or the delivery status: pending, claimed, queued, sent, "
        "delivered, undelivered, failed, canceled"
    )
    explanation: str | None = Field(description="why it was skipped, canceled or not delivered")
    sent_at: datetime | None


class SubscriptionChange(BaseModel):
    enabled: bool
    source: str
    at: datetime
    reason: str | None = Field(default=None, description="why staff changed it (Workspace)")
    actor: str | None = Field(default=None, description="who changed it in the Workspace")


class SubscriptionPublic(BaseModel):
    user_id: int
    channel: Literal["sms"] = "sms"
    enabled: bool
    carrier_opted_out: bool = Field(
        description="the number texted STOP (or Twilio answered 21610): nothing reaches it "
        "until the texter sends START"
    )
    changes: list[SubscriptionChange]


class SubscriptionUpdate(BaseModel):
    enabled: bool
