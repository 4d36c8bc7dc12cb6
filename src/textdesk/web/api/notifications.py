"""REST API: send notifications, read their history, change subscriptions."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from textdesk.notifications import triggers
from textdesk.notifications.sending import SKIP_REASONS
from textdesk.notifications.subscriptions import SubscriptionView
from textdesk.web.api.errors import field_error
from textdesk.web.api.fields import Limit, Offset, PathId
from textdesk.web.api.notification_schemas import (
    NotificationCreate,
    NotificationPublic,
    NotificationResult,
    SubscriptionChange,
    SubscriptionPublic,
    SubscriptionUpdate,
)
from textdesk.web.deps import ApiClient, ContainerDep

router = APIRouter(prefix="/api/v1", tags=["notifications"])


def _no_user(user_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no user {user_id}")


def _public(view: SubscriptionView) -> SubscriptionPublic:
    return SubscriptionPublic(
        user_id=view.user_id,
        enabled=view.enabled,
        carrier_opted_out=view.carrier_opted_out,
        changes=[
            SubscriptionChange(
                enabled=c.enabled, source=c.source, at=c.at, reason=c.reason, actor=c.actor
            )
            for c in view.changes
        ],
    )


@router.post(
    "/notifications", response_model=NotificationResult, status_code=status.HTTP_202_ACCEPTED
)
async def send_notification(
    body: NotificationCreate, client: ApiClient, container: ContainerDep
) -> NotificationResult:
    """Queue a templated notification for subscribed accounts; the others are counted."""
    request = triggers.Request(
        user_ids=body.recipient_ids(),
        record_number=body.record_number,
        template=body.template,
        body=body.body,
        params=body.params,
    )
    try:
        report = await container.notifications.requests.send(request)
    except triggers.NotifyError as exc:
        if exc.field is not None:
            raise field_error(exc.field, str(exc)) from exc
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return NotificationResult(
        queued=report.queued, skipped={r: report.skipped.get(r, 0) for r in SKIP_REASONS}
    )


@router.get("/users/{user_id}/notifications", response_model=list[NotificationPublic])
async def list_notifications(
    user_id: PathId,
    client: ApiClient,
    container: ContainerDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[NotificationPublic]:
    """Newest first, each with its delivery status and, if not delivered, why."""
    entries = await container.notifications.history.of(user_id, limit=limit, offset=offset)
    if entries is None:
        raise _no_user(user_id)
    return [NotificationPublic.model_validate(e, from_attributes=True) for e in entries]


@router.get("/users/{user_id}/subscription", response_model=SubscriptionPublic)
async def get_subscription(
    user_id: PathId, client: ApiClient, container: ContainerDep
) -> SubscriptionPublic:
    """The SMS notification setting, the carrier opt-out state and every change."""
    view = await container.notifications.subscriptions.view(user_id)
    if view is None:
        raise _no_user(user_id)
    return _public(view)


@router.put("/users/{user_id}/subscription", response_model=SubscriptionPublic)
async def put_subscription(
    user_id: PathId, body: SubscriptionUpdate, client: ApiClient, container: ContainerDep
) -> SubscriptionPublic:
    """Turn notifications on or off (audited as ``api``); a carrier opt-out still wins."""
    view = await container.notifications.subscriptions.change(
        user_id, enabled=body.enabled, source="api"
    )
    if view is None:
        raise _no_user(user_id)
    return _public(view)
