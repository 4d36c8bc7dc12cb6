"""The composition root: every adapter is built here, once, and passed in."""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.group_commit import GroupCommitter
from textdesk.adapters.events import MemoryBus, RedisBus
from textdesk.adapters.login_throttle import DatabaseTallies, RedisTallies
from textdesk.adapters.notification_files import NotificationFiles
from textdesk.adapters.pacing import LocalPacer, RedisPacer
from textdesk.adapters.signed_urls import MediaUrlSigner, RecordLinkSigner
from textdesk.adapters.twilio import media_url
from textdesk.adapters.twilio.api_transport import LeanTransport, proxied
from textdesk.adapters.twilio.media import TwilioMediaFetcher
from textdesk.adapters.twilio.rest import TwilioRestGateway
from textdesk.clock import SystemClock
from textdesk.config import Settings
from textdesk.domain.engine import Engine
from textdesk.ports import Clock, MediaFetcher, Pacer, SmsGateway
from textdesk.services import receive
from textdesk.services.agent_desk import Desk
from textdesk.services.agents import Authenticator
from textdesk.services.assignment import Assigner, Timers
from textdesk.services.dispatch import Dispatcher
from textdesk.services.effects import EffectRunner
from textdesk.services.handoff import LiveAgents
from textdesk.services.notifications import send_gate
from textdesk.services.notify import Notifier
from textdesk.services.numbers import NumberDirectory
from textdesk.services.presence import Heartbeat
from textdesk.services.processing import Converser, InboxProcessor
from textdesk.services.reconcile import Reconciler
from textdesk.services.records import RecordViews
from textdesk.services.subscriptions import SubscriptionCommands
from textdesk.services.virtual_agent import VirtualAgent
from textdesk.topic_files import load_topics
from textdesk.worker import Loop

log = logging.getLogger(__name__)


@dataclass
class Container:
    """Everything a running textdesk process holds."""

    settings: Settings
    db: AsyncEngine
    clock: Clock
    http: httpx.AsyncClient
    api_http: httpx.AsyncClient
    committer: GroupCommitter
    numbers: NumberDirectory
    signer: MediaUrlSigner
    record_links: RecordLinkSigner
    record_views: RecordViews
    gateway: SmsGateway
    fetcher: MediaFetcher
    processor: InboxProcessor
    dispatcher: Dispatcher
    notification_files: NotificationFiles
    engine: Engine
    bus: MemoryBus
    desk: Desk
    authenticator: Authenticator
    heartbeat: Heartbeat
    loops: list[Loop] = field(default_factory=list)
    redis: Redis | None = None
    background: bool = False

    async def start(self, *, background: bool = True) -> None:
        """Start the writer; with ``background``, also the processing and dispatch loops."""
        await self.committer.start()
        await self.bus.start()
        # Whichever loops run here, the Workspace streams this process serves count.
        self.heartbeat.start()
        self.background = background
        if background:
            for loop in self.loops:
                loop.start()

    async def stop(self) -> None:
        for loop in self.loops:
            await loop.stop()
        await self.heartbeat.stop()
        await self.committer.stop()
        await self.bus.stop()
        await self.http.aclose()
        await self.api_http.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()


YOUNG_GENERATION_THRESHOLD = 10_000


def settle_heap() -> None:
    """Keep what start-up built out of the garbage collector's way, for good.

    A server process holds a large, long-lived heap (SQLAlchemy's and Pydantic's
    metadata, the topics, the templates) and allocates many short-lived objects per
    text, so the collector's full passes kept walking that heap: about a tenth of
    the CPU under load.  After one last collection, ``gc.freeze`` moves everything
    alive to a generation the collector never scans; later garbage is collected as
    usual.

    The youngest generation is then collected after 10,000 net allocations instead
    of 700.  With a couple of hundred texts in flight, every collection walked all
    their live objects, to free little that reference counting would not: that was
    12-26 µs of each answered webhook's 250-330 µs of CPU, and is about 1 µs now
    (``python -m benchmarks.inprocess [--gc-threshold 700]``).  Cyclic garbage
    waits a little longer; it is not much.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    converser: Converser | None = None,
    gateway: SmsGateway | None = None,
) -> Container:
    """Wire a container from settings; tests may swap the clock, converser or gateway."""
    clock = clock or SystemClock()
    db = create_engine(settings.database_url)
    # httpcore's pool checks every connection for every request it places, so a big
    # pool costs CPU quadratically under a burst; 20 is far above the per-number rate.
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.send_timeout_seconds, connect=5.0),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
    )
    # Twilio's REST API, called once per text and more, gets its own client on a lean
    # transport (see api_transport); media downloads keep httpx's, which streams.
    api_http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.send_timeout_seconds, connect=5.0),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
        transport=None
        if proxied(settings.api_url)
        else LeanTransport(max_connections=20, ssl_context=httpx.create_ssl_context()),
    )
    committer = GroupCommitter(db)
    signer = MediaUrlSigner(
        secret_key=settings.secret_key,
        public_url=settings.public_url,
        ttl_seconds=settings.media_url_ttl_seconds,
    )
    gateway = gateway or TwilioRestGateway(
        api_http,
        api_url=settings.api_url,
        account_sid=settings.account_sid,
        auth_token=settings.auth_token,
    )
    api_origin, api_prefix = media_url.api_origin(settings.api_url)
    fetcher = TwilioMediaFetcher(
        http,
        account_sid=settings.account_sid,
        auth_token=settings.auth_token,
        allowed_origins=settings.allowed_media_origins,
        api_origin=api_origin,
        api_prefix=api_prefix,
        max_bytes=settings.media_max_bytes,
    )
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    pacer: Pacer = (
        RedisPacer(redis, settings.send_rate_per_number)
        if redis is not None
        else LocalPacer(settings.send_rate_per_number)
    )
    # Notifications (issue 5): a broken replies.yaml stops the start, like a bad topic.
    notification_files = NotificationFiles(settings.notification_templates_dir)
    notification_files.wording()
    dispatcher = Dispatcher(
        db=db,
        gateway=gateway,
        clock=clock,
        signer=signer,
        status_callback=settings.url_for("/twilio/status"),
        rate_per_number=settings.send_rate_per_number,
        max_attempts=settings.send_max_attempts,
        retry_base_seconds=settings.retry_base_seconds,
        retry_max_seconds=settings.retry_max_seconds,
        give_up_after=timedelta(seconds=settings.send_give_up_after_seconds),
        pacer=pacer,
        gate=send_gate,
        # Long enough for a claimed batch's pacing (≤ 2 s) and one timed-out call, short
        # enough that a crashed process's texts are not held up for long.
        lease=timedelta(seconds=2 * settings.send_timeout_seconds + 5),
    )
    dispatch_loop = Loop("dispatcher", dispatcher.run_once, idle=0.5)
    record_links = RecordLinkSigner(secret_key=settings.secret_key, public_url=settings.public_url)
    # How every texted card, template, topic and record page shows a record.
    record_views = RecordViews(record_links, settings.zone)
    notifier = Notifier(
        db=db,
        clock=clock,
        files=notification_files,
        views=record_views,
        on_enqueued=dispatch_loop.wake,
    )
    # Polled: record events come from API requests, topics and agents in any process.
    notify_loop = Loop("notifier", notifier.run_once, idle=0.5)
    # Topics load once, here: a broken topic folder stops the start with file:line.
    engine = Engine(
        load_topics(settings.topics_dir),
        idle_close=timedelta(minutes=settings.idle_close_minutes),
    )
    if converser is None:
        effects = EffectRunner(
            views=record_views,
            handoff=LiveAgents(grace=timedelta(seconds=settings.presence_grace_seconds)),
            max_media_bytes=settings.media_max_bytes,
            max_media_pixels=settings.media_max_pixels,
        )
        converser = VirtualAgent(engine, effects, SubscriptionCommands(notification_files))
    bus: MemoryBus = RedisBus(redis) if redis is not None else MemoryBus()
    reconciler = Reconciler(
        db=db,
        gateway=gateway,
        clock=clock,
        after=timedelta(seconds=settings.reconcile_after_seconds),
        rate=settings.reconcile_rate,
        publish=bus.publish,
    )
    reconcile_loop = Loop("reconciler", reconciler.run_once, idle=1.0)
    desk = Desk(
        engine=engine,
        record_views=record_views,
        max_image_bytes=settings.media_max_bytes,
        max_image_pixels=settings.media_max_pixels,
    )
    assigner = Assigner(
        db=db,
        clock=clock,
        desk=desk,
        timers=Timers(
            offer_timeout=timedelta(seconds=settings.offer_timeout_seconds),
            remind_after=timedelta(minutes=settings.agent_remind_minutes),
            idle_close=timedelta(minutes=settings.agent_idle_close_minutes),
            presence_grace=timedelta(seconds=settings.presence_grace_seconds),
        ),
        publish=bus.publish,
        on_enqueued=dispatch_loop.wake,
    )
    assign_loop = Loop("assigner", assigner.run_once, idle=1.0)

    def processed(conversation_ids: set[int]) -> None:
        assign_loop.wake()
        for conversation_id in conversation_ids:
            bus.publish_nowait({"type": "conversation", "conversation_id": conversation_id})

    def wake_inbox_loop() -> None:
        process_loop.wake()  # defined below: the loop needs the processor

    processor = InboxProcessor(
        db=db,
        converser=converser,
        fetcher=fetcher,
        clock=clock,
        max_pixels=settings.media_max_pixels,
        on_enqueued=dispatch_loop.wake,
        on_processed=processed,
        on_deferred=wake_inbox_loop,
    )
    process_loop = Loop("inbox", processor.run_once, idle=1.0)
    receive.register_writers(committer, processor)
    if not settings.inline_processing:
        committer.on_commit(lambda kinds: process_loop.wake() if receive.INBOX in kinds else None)
    return Container(
        settings=settings,
        db=db,
        clock=clock,
        http=http,
        api_http=api_http,
        committer=committer,
        numbers=NumberDirectory(db),
        signer=signer,
        record_links=record_links,
        record_views=record_views,
        gateway=gateway,
        fetcher=fetcher,
        processor=processor,
        dispatcher=dispatcher,
        notification_files=notification_files,
        loops=[process_loop, dispatch_loop, assign_loop, notify_loop, reconcile_loop],
        redis=redis,
        engine=engine,
        bus=bus,
        desk=desk,
        # Sign-in tallies are shared by every process: in Redis, or else the database.
        authenticator=Authenticator(
            db, RedisTallies(redis, clock) if redis is not None else DatabaseTallies(db, clock)
        ),
        heartbeat=Heartbeat(
            db=db, clock=clock, grace=timedelta(seconds=settings.presence_grace_seconds)
        ),
    )
