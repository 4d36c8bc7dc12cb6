"""The composition root: every adapter is built here, once, and passed in."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.group_commit import GroupCommitter
from textdesk.adapters.pacing import LocalPacer, RedisPacer
from textdesk.adapters.signed_urls import MediaUrlSigner, RecordLinkSigner
from textdesk.adapters.twilio.media import TwilioMediaFetcher
from textdesk.adapters.twilio.rest import TwilioRestGateway
from textdesk.clock import SystemClock
from textdesk.config import Settings
from textdesk.domain.engine import Engine
from textdesk.ports import Clock, MediaFetcher, Pacer, SmsGateway
from textdesk.services import receive
from textdesk.services.dispatch import Dispatcher
from textdesk.services.effects import EffectRunner, NoAgents
from textdesk.services.numbers import NumberDirectory
from textdesk.services.processing import Converser, InboxProcessor
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
    committer: GroupCommitter
    numbers: NumberDirectory
    signer: MediaUrlSigner
    record_links: RecordLinkSigner
    gateway: SmsGateway
    fetcher: MediaFetcher
    processor: InboxProcessor
    dispatcher: Dispatcher
    loops: list[Loop] = field(default_factory=list)
    redis: Redis | None = None
    background: bool = False

    async def start(self, *, background: bool = True) -> None:
        """Start the writer; with ``background``, also the processing and dispatch loops."""
        await self.committer.start()
        self.background = background
        if background:
            for loop in self.loops:
                loop.start()

    async def stop(self) -> None:
        for loop in self.loops:
            await loop.stop()
        await self.committer.stop()
        await self.http.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()


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
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.send_timeout_seconds, connect=5.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
    )
    committer = GroupCommitter(db)
    receive.register_writers(committer)
    signer = MediaUrlSigner(
        secret_key=settings.secret_key,
        public_url=settings.public_url,
        ttl_seconds=settings.media_url_ttl_seconds,
    )
    gateway = gateway or TwilioRestGateway(
        http,
        api_url=settings.api_url,
        account_sid=settings.account_sid,
        auth_token=settings.auth_token,
    )
    fetcher = TwilioMediaFetcher(
        http,
        account_sid=settings.account_sid,
        auth_token=settings.auth_token,
        allowed_hosts=settings.allowed_media_hosts,
        max_bytes=settings.media_max_bytes,
    )
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    pacer: Pacer = (
        RedisPacer(redis, settings.send_rate_per_number)
        if redis is not None
        else LocalPacer(settings.send_rate_per_number)
    )
    dispatcher = Dispatcher(
        db=db,
        gateway=gateway,
        clock=clock,
        signer=signer,
        status_callback=settings.url_for("/twilio/status"),
        rate_per_number=settings.send_rate_per_number,
        max_attempts=settings.send_max_attempts,
        retry_base_seconds=settings.retry_base_seconds,
        pacer=pacer,
    )
    dispatch_loop = Loop("dispatcher", dispatcher.run_once, idle=0.5)
    record_links = RecordLinkSigner(secret_key=settings.secret_key, public_url=settings.public_url)
    if converser is None:
        engine = Engine(
            load_topics(settings.topics_dir),
            idle_close=timedelta(minutes=settings.idle_close_minutes),
        )
        effects = EffectRunner(
            links=record_links, handoff=NoAgents(), max_media_bytes=settings.media_max_bytes
        )
        converser = VirtualAgent(engine, effects)
    processor = InboxProcessor(
        db=db,
        converser=converser,
        fetcher=fetcher,
        clock=clock,
        on_enqueued=dispatch_loop.wake,
    )
    process_loop = Loop("inbox", processor.run_once, idle=1.0)
    committer.on_commit(lambda kinds: process_loop.wake() if receive.INBOX in kinds else None)
    return Container(
        settings=settings,
        db=db,
        clock=clock,
        http=http,
        committer=committer,
        numbers=NumberDirectory(db),
        signer=signer,
        record_links=RecordLinkSigner(
            secret_key=settings.secret_key, public_url=settings.public_url
        ),
        gateway=gateway,
        fetcher=fetcher,
        processor=processor,
        dispatcher=dispatcher,
        loops=[process_loop, dispatch_loop],
        redis=redis,
    )
