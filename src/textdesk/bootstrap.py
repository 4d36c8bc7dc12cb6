"""The composition root: every adapter is built here, once, and passed in."""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import admin as admin_repositories
from textdesk.adapters.db import (
    answering_repositories,
    record_backlog,
    repositories,
    sandbox_threads,
)
from textdesk.adapters.db import live_agents as live_agent_store
from textdesk.adapters.db import notification_repositories as notification_store
from textdesk.adapters.db import records as record_store
from textdesk.adapters.db import workspace_views as workspace_reads
from textdesk.adapters.db.answering_repositories import SqlAnswering
from textdesk.adapters.db.backlog import SqlOutboxBacklog
from textdesk.adapters.db.conversation_pages import people_uow
from textdesk.adapters.db.database import SqlDatabaseProbe, create_engine
from textdesk.adapters.db.demo_seed import demo_seed_uow
from textdesk.adapters.db.group_commit import GroupCommitter
from textdesk.adapters.db.media import SqlMediaStore
from textdesk.adapters.db.notifications import send_gate
from textdesk.adapters.db.topics import SqlTopicMedia, topic_store
from textdesk.adapters.files.notification_files import NotificationFiles
from textdesk.adapters.image_checks import PillowImageChecker
from textdesk.adapters.images import ThreadedPreviews
from textdesk.adapters.loops import Loop
from textdesk.adapters.pubsub import MemoryBus, RedisBus
from textdesk.adapters.send_pacing import LocalPacer, RedisPacer
from textdesk.adapters.servicenow.changes import InstanceChanges
from textdesk.adapters.servicenow.client import Credentials, ServiceNowClient
from textdesk.adapters.servicenow.links import InstanceForms, InstanceViews
from textdesk.adapters.servicenow.record_store import MediaReader, ServiceNowRecords
from textdesk.adapters.servicenow.staff_records import InstanceRecordsUnitOfWork, StaffRecords
from textdesk.adapters.servicenow.users import UserIndex, retry_delay
from textdesk.adapters.sign_in_tallies import DatabaseTallies, RedisTallies
from textdesk.adapters.signed_urls import MediaUrlSigner, RecordLinkSigner
from textdesk.adapters.twilio import media_origins
from textdesk.adapters.twilio.api_transport import LeanTransport, proxied
from textdesk.adapters.twilio.media import TwilioMediaFetcher
from textdesk.adapters.twilio.rest import TwilioRestGateway
from textdesk.admin.agents import AgentAccounts, Authenticator
from textdesk.admin.api_tokens import ApiTokens
from textdesk.admin.demo import DemoSeed
from textdesk.admin.numbers import NumberDirectory, Numbers
from textdesk.admin.people import People
from textdesk.admin.simulator import PhoneSimulator
from textdesk.admin.staff import Staff
from textdesk.admin.users import Accounts
from textdesk.channel import inbound
from textdesk.channel.answering import Converser, InboxProcessor, texter_of
from textdesk.channel.effects import EffectRunner
from textdesk.channel.outbound import Dispatcher
from textdesk.channel.reconcile import Reconciler
from textdesk.channel.virtual_agent import VirtualAgent
from textdesk.config import DEMO_TOPICS_DIR, Settings
from textdesk.demo import demo_media
from textdesk.domain.agent.messages import Texter
from textdesk.domain.records import Record
from textdesk.live_agents.assignment import Assigner, Timers
from textdesk.live_agents.conversation_view import UrlFor
from textdesk.live_agents.desk import Desk
from textdesk.live_agents.handoff import LiveAgents
from textdesk.live_agents.presence import Heartbeat
from textdesk.live_agents.remote_texters import RemoteTexters
from textdesk.live_agents.workspace import Timing as WorkspaceTiming
from textdesk.live_agents.workspace import Workspace
from textdesk.live_agents.workspace_updates import WorkspaceUpdates
from textdesk.notifications.instance_events import InstanceEvents
from textdesk.notifications.instance_polling import InstancePolling
from textdesk.notifications.sending import NotificationHistory
from textdesk.notifications.subscriptions import SubscriptionCommands, SubscriptionSettings
from textdesk.notifications.triggers import NotificationRequests, Notifier
from textdesk.ops.media_files import MediaFiles
from textdesk.ops.outbox_gauges import OutboxGauges
from textdesk.ops.readiness import Readiness
from textdesk.ports import (
    Clock,
    DeskRecords,
    Engines,
    EventBus,
    MediaFetcher,
    Pacer,
    ReadingUnitOfWork,
    RecordLinks,
    RecordRepositories,
    RecordStore,
    RecordViewer,
    SmsGateway,
    TexterProfiles,
    WorkspaceEvent,
)
from textdesk.records.backlog import RecordBacklogLoop
from textdesk.records.incidents import Incidents, RecordViews
from textdesk.topic_tools.asset_files import MEDIA, SCRIPTS, folder_images, folder_scripts
from textdesk.topic_tools.topic_files import folder_documents
from textdesk.topics.assets import TopicAssets
from textdesk.topics.library import TopicLibrary
from textdesk.topics.live import LiveTopics
from textdesk.topics.trial import RECORDS_COPIED, TopicTrial

log = logging.getLogger(__name__)

# How often each process asks whether the published topics changed: one indexed read
# of one row, so a publish reaches every process within about a second.
TOPICS_POLL_SECONDS = 1.0


# ------------------------------------------------------------------------- admin
# The operator's use cases (``admin/``): the container holds one set; the CLI, which
# has no container, builds its own from an engine.


@dataclass(frozen=True)
class Admin:
    """The admin use cases on one engine."""

    api_tokens: ApiTokens
    numbers: Numbers
    accounts: Accounts
    staff: Staff
    agents: AgentAccounts
    demo: DemoSeed
    people: People


def admin_use_cases(db: AsyncEngine, clock: Clock | None = None) -> Admin:
    """The admin use cases on ``db`` (the system clock unless told otherwise)."""
    clock = clock or SystemClock()
    numbers = Numbers(admin_repositories.numbers_uow(db), clock)
    accounts = Accounts(admin_repositories.users_uow(db), clock)
    agents = AgentAccounts(admin_repositories.agent_accounts_uow(db), clock)
    return Admin(
        api_tokens=ApiTokens(admin_repositories.api_tokens_uow(db), clock),
        numbers=numbers,
        accounts=accounts,
        staff=Staff(admin_repositories.staff_uow(db), clock),
        agents=agents,
        demo=DemoSeed(
            numbers=numbers,
            accounts=accounts,
            agents=agents,
            uow=demo_seed_uow(db),
            clock=clock,
            topics=TopicLibrary(topic_store(db), clock),
            topic_documents=lambda: folder_documents(DEMO_TOPICS_DIR),
        ),
        people=People(people_uow(db)),
    )


# The notification use cases (``notifications/``) the routes call.


@dataclass(frozen=True)
class Notifications:
    """Staff's and the API's subscription changes, API notifications, their history."""

    subscriptions: SubscriptionSettings
    requests: NotificationRequests
    history: NotificationHistory


@dataclass
class Container:
    """Everything a running textdesk process holds."""

    settings: Settings
    db: AsyncEngine
    clock: Clock
    http: httpx.AsyncClient
    api_http: httpx.AsyncClient
    committer: GroupCommitter[SqlAnswering]
    numbers: NumberDirectory
    signer: MediaUrlSigner
    record_links: RecordLinks
    record_views: RecordViews
    incidents: Incidents
    readiness: Readiness
    outbox_gauges: OutboxGauges
    media_files: MediaFiles
    simulator: PhoneSimulator
    gateway: SmsGateway
    fetcher: MediaFetcher
    processor: InboxProcessor
    dispatcher: Dispatcher
    notifications: Notifications
    topics: LiveTopics
    topic_library: TopicLibrary
    topic_trial: TopicTrial
    topic_assets: TopicAssets
    topics_loop: Loop
    bus: EventBus
    updates: WorkspaceUpdates
    desk: Desk
    workspace: Workspace
    authenticator: Authenticator
    heartbeat: Heartbeat
    heartbeat_loop: Loop
    admin: Admin
    loops: list[Loop] = field(default_factory=list)
    redis: Redis | None = None
    background: bool = False
    # Clients of other services built here (ServiceNow's), closed at stop.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Record events posted by the instance (POST /api/v1/events/servicenow); None
    # unless the records are on ServiceNow, whose users name the callers.
    servicenow_events: InstanceEvents | None = None

    async def start(self, *, background: bool = True) -> None:
        """Start the writer; with ``background``, also the processing and dispatch loops."""
        await self.import_topics()
        await self.topics.refresh()
        # Every process answers texts (inline, in the webhook): each keeps its topics.
        self.topics_loop.start()
        await self.committer.start()
        await self.bus.start()
        # Whichever loops run here, the Workspace streams this process serves count.
        self.heartbeat_loop.start()
        self.background = background
        if background:
            for loop in self.loops:
                loop.start()

    async def import_topics(self) -> None:
        """Import ``TEXTDESK_TOPICS_DIR`` (once across processes: the topics' lock).

        A topic new here is published; a file changed since its last import becomes
        a draft, and the published version keeps serving until someone publishes it.
        """
        folder = self.settings.topics_dir
        if folder is None:
            return
        report = await self.topic_assets.import_folder(
            folder_documents(folder),
            folder_images(folder),
            folder_scripts(folder),
            by=f"folder {folder}",
            publish_changed=False,
        )
        for error in report.errors:
            # A refused image or script is not stored at all (its error says so); a
            # topic file with errors is kept as a draft that does not serve.
            asset = error.file.startswith((f"{MEDIA}/", f"{SCRIPTS}/"))
            kept = "" if asset else " (kept as an invalid draft)"
            log.error("topic folder %s: %s%s", folder, error, kept)
        if report.published or report.drafted:
            log.info(
                "topic folder %s: published %s; drafts %s",
                folder,
                ", ".join(report.published) or "none",
                ", ".join(report.drafted) or "none",
            )

    async def stop(self) -> None:
        await self.topics_loop.stop()
        for loop in self.loops:
            await loop.stop()
        await self.heartbeat_loop.stop()
        await self.committer.stop()
        await self.bus.stop()
        await self.http.aclose()
        await self.api_http.aclose()
        for close in self.closers:
            await close()
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
    remote_records: RecordStore | None = None,
) -> Container:
    """Wire a container from settings; tests may swap the clock, converser or gateway.

    ``remote_records``: the virtual agent's record store when it is another service
    (its calls run outside every transaction); the built-in store otherwise.
    """
    clock = clock or SystemClock()
    db = create_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    http, api_http = _http_clients(settings)
    bus: EventBus = RedisBus(redis) if redis is not None else MemoryBus()
    updates = WorkspaceUpdates(bus)
    closers: list[Callable[[], Awaitable[None]]] = []
    remote_loops: list[Loop] = []
    if remote_records is None and settings.records == "servicenow":
        remote_records = servicenow_records(settings, media=SqlMediaStore(db))
    records = _records(settings, db=db, clock=clock, remote_records=remote_records)
    # Who texts, when people are kept in another service (ServiceNow): its users.
    profiles = remote_records.users if isinstance(remote_records, ServiceNowRecords) else None
    if isinstance(remote_records, ServiceNowRecords):
        # Its connections live on the loop that serves: closed there, at stop.
        closers.append(remote_records.aclose)
        remote_loops.append(servicenow_users_loop(remote_records))
    sending = _sending(settings, db=db, clock=clock, http=api_http, redis=redis, gateway=gateway)
    ops = _ops(settings, db=db, clock=clock, signer=sending.signer)
    notifications = _notifications(
        settings, db=db, clock=clock, views=records.views, wake_sender=sending.loop.wake
    )
    # The published topics, from the database: loaded at start (after the folder's
    # import), then kept in step with every other process's publishes.
    topic_uow = topic_store(db)
    engine = LiveTopics(
        topic_uow,
        idle_close=timedelta(minutes=settings.idle_close_minutes),
    )
    topics_loop = Loop("topics", engine.refresh, idle=TOPICS_POLL_SECONDS)
    # A publish here wakes this process's topics at once; the others see it at their poll.
    topic_library = TopicLibrary(topic_uow, clock, on_published=topics_loop.wake)
    reconcile_loop = _reconciling(
        settings, db=db, clock=clock, gateway=sending.gateway, publish=updates.publish
    )
    instance_events = servicenow_events(
        settings,
        db=db,
        clock=clock,
        remote_records=remote_records,
        views=records.views,
        templates=notifications.files,
        wake_sender=sending.loop.wake,
    )
    polling = servicenow_polling(
        settings, db=db, clock=clock, remote_records=remote_records, events=instance_events
    )
    if polling is not None:
        remote_loops.append(
            Loop("servicenow-poll", polling.run_once, idle=polling.every.total_seconds())
        )
    live = _live_agents(
        settings,
        db=db,
        clock=clock,
        engine=engine,
        # A card an agent sends links where the texter's own cards do.
        views=_texter_views(settings, records.views, remote_records),
        publish=updates.publish,
        wake_sender=sending.loop.wake,
        media=sending.signer,
        record_links=records.links,
        remote=_remote_texters(remote_records),
        desk_records=StaffRecords(remote_records, record_store.AccountsOnTheirOwn(db))
        if isinstance(remote_records, ServiceNowRecords)
        else None,
    )
    if remote_records is not None:
        remote_loops.append(
            _record_backlog(
                db=db,
                clock=clock,
                store=remote_records,
                views=_texter_views(settings, records.views, remote_records),
                wake_sender=sending.loop.wake,
                updates=updates,
            )
        )
    inbound = _inbound(
        settings,
        db=db,
        clock=clock,
        http=http,
        profiles=profiles,
        converser=converser
        or _virtual_agent(
            settings,
            engine=engine,
            views=_texter_views(settings, records.views, remote_records),
            files=notifications.files,
            remote_records=remote_records,
        ),
        updates=updates,
        wake_sender=sending.loop.wake,
        wake_assigner=live.loop.wake,
    )
    return Container(
        settings=settings,
        db=db,
        clock=clock,
        http=http,
        api_http=api_http,
        committer=inbound.committer,
        numbers=NumberDirectory(admin_repositories.numbers_uow(db)),
        signer=sending.signer,
        record_links=records.links,
        record_views=records.views,
        incidents=records.incidents,
        readiness=ops.readiness,
        outbox_gauges=ops.outbox_gauges,
        media_files=ops.media_files,
        # The demo's phone: its routes exist only in sandbox mode; it only reads.
        simulator=PhoneSimulator(sandbox_threads.simulator_uow(db), sending.signer),
        gateway=sending.gateway,
        fetcher=inbound.fetcher,
        processor=inbound.processor,
        dispatcher=sending.dispatcher,
        notifications=notifications.use_cases,
        loops=[
            inbound.loop,
            sending.loop,
            live.loop,
            notifications.loop,
            reconcile_loop,
            *remote_loops,
        ],
        redis=redis,
        topics=engine,
        topic_library=topic_library,
        topic_trial=_topic_trial(
            settings,
            db=db,
            clock=clock,
            library=topic_library,
            engines=engine,
            incidents=records.incidents,
            profiles=remote_records.users
            if isinstance(remote_records, ServiceNowRecords)
            else None,
        ),
        topic_assets=TopicAssets(
            topic_uow,
            clock,
            library=topic_library,
            images=PillowImageChecker(),
            max_bytes=settings.media_max_bytes,
            max_pixels=settings.media_max_pixels,
            zone=settings.zone,
        ),
        topics_loop=topics_loop,
        bus=bus,
        updates=updates,
        desk=live.desk,
        workspace=live.workspace,
        # Sign-in tallies are shared by every process: in Redis, or else the database.
        authenticator=Authenticator(
            admin_repositories.agent_accounts_uow(db),
            RedisTallies(redis, clock) if redis is not None else DatabaseTallies(db, clock),
        ),
        heartbeat=live.heartbeat,
        heartbeat_loop=Loop("heartbeat", live.heartbeat.beat_all, idle=live.heartbeat.every),
        admin=admin_use_cases(db, clock),
        closers=closers,
        servicenow_events=instance_events,
    )


# ------------------------------------------------------------------ ServiceNow
# TEXTDESK_RECORDS=servicenow: the virtual agent's records are incidents on the
# instance (adapters/servicenow), called outside every transaction.


def servicenow_records(settings: Settings, *, media: MediaReader | None) -> ServiceNowRecords:
    """The record store on the configured instance (settings checked at start)."""
    assert settings.servicenow_instance_url is not None
    assert settings.servicenow_username is not None
    assert settings.servicenow_password is not None
    client = ServiceNowClient(
        settings.servicenow_instance_url,
        Credentials(
            settings.servicenow_username,
            settings.servicenow_password,
            settings.servicenow_client_id,
            settings.servicenow_client_secret,
        ),
    )
    return ServiceNowRecords(client, UserIndex(client), media)


def servicenow_users_loop(records: ServiceNowRecords) -> Loop:
    """Reads the instance's users at start, then their changes every few minutes, so no
    texter waits while the whole directory is paged through; a read that fails is
    tried again after 2, 4, 8… seconds (at most a minute), not a whole round later."""

    async def refresh() -> int:
        await records.users.refresh()
        return 0  # nothing more to do until the next round

    return Loop("servicenow-users", refresh, idle=records.users.refresh_every, retry=retry_delay)


def _topic_trial(
    settings: Settings,
    *,
    db: AsyncEngine,
    clock: Clock,
    library: TopicLibrary,
    engines: Engines,
    incidents: Incidents,
    profiles: TexterProfiles | None,
) -> TopicTrial:
    """The designer's "Try it": a draft played for a texter, nothing sent or written."""
    answering = answering_repositories.answering(db, profiles)

    async def texter(phone: str) -> Texter:
        async with answering.read() as repos:
            found = await repos.directory.profiles_by_phone([phone])
        return texter_of(phone, found.get(phone))

    async def records_of(who: Texter) -> list[Record]:
        return await incidents.page(
            caller_id=who.user_id, caller_phone=who.phone, limit=RECORDS_COPIED
        )

    return TopicTrial(
        library=library,
        engines=engines,
        texter_of=texter,
        records_of=records_of,
        clock=clock,
        zone=settings.zone,
    )


def _record_backlog(
    *,
    db: AsyncEngine,
    clock: Clock,
    store: RecordStore,
    views: RecordViewer,
    wake_sender: Callable[[], None],
    updates: WorkspaceUpdates,
) -> Loop:
    """Reports kept while the remote record store was down, made once it is back."""
    backlog = RecordBacklogLoop(
        uow=record_backlog.record_backlog(db),
        store=store,
        views=views,
        clock=clock,
        on_enqueued=wake_sender,
        on_said=updates.texts_answered,
    )
    # Due tries are read every few seconds: one indexed query, only on remote stores.
    return Loop("record-backlog", backlog.run_once, idle=5.0)


def servicenow_events(
    settings: Settings,
    *,
    db: AsyncEngine,
    clock: Clock,
    remote_records: RecordStore | None,
    views: RecordViews,
    templates: NotificationFiles,
    wake_sender: Callable[[], None],
) -> InstanceEvents | None:
    """Notifications for the changes the instance posts, when records live there."""
    if not isinstance(remote_records, ServiceNowRecords):
        return None
    return InstanceEvents(
        uow=notification_store.instance_events(db),
        callers=remote_records.users,
        records=remote_records,
        templates=templates,
        views=_texter_views(settings, views, remote_records),
        clock=clock,
        integration_user=remote_records.integration_user,
        on_enqueued=wake_sender,
    )


def servicenow_polling(
    settings: Settings,
    *,
    db: AsyncEngine,
    clock: Clock,
    remote_records: RecordStore | None,
    events: InstanceEvents | None,
) -> InstancePolling | None:
    """Asking the instance for its changes every TEXTDESK_SERVICENOW_POLL_SECONDS, when
    records live there and an interval is set (for instances that may not call out)."""
    if (
        not isinstance(remote_records, ServiceNowRecords)
        or events is None
        or not settings.servicenow_poll_seconds
    ):
        return None
    return InstancePolling(
        uow=notification_store.instance_polling(db),
        instance=InstanceChanges(remote_records.client),
        events=events,
        clock=clock,
        every=timedelta(seconds=settings.servicenow_poll_seconds),
    )


def _remote_texters(remote_records: RecordStore | None) -> RemoteTexters | None:
    """What the Workspace adds of a texter kept on the instance: profile, incidents."""
    if not isinstance(remote_records, ServiceNowRecords):
        return None
    return RemoteTexters(
        remote_records.users, remote_records, InstanceForms(remote_records.instance_url)
    )


def _texter_views(
    settings: Settings, views: RecordViews, remote_records: RecordStore | None
) -> RecordViewer:
    """How the virtual agent shows records: an incident on the instance links there."""
    if isinstance(remote_records, ServiceNowRecords):
        return InstanceViews(remote_records.instance_url, views, settings.zone)
    return views


def _http_clients(settings: Settings) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """The client for media downloads, and the one for Twilio's REST API."""
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
    return http, api_http


@dataclass(frozen=True)
class _Records:
    links: RecordLinks
    views: RecordViews
    incidents: Incidents


def _records(
    settings: Settings, *, db: AsyncEngine, clock: Clock, remote_records: RecordStore | None
) -> _Records:
    """Record links and views, and the use cases of the REST API and the record page:
    on the instance's incidents when records live there, else on the built-in store."""
    links = RecordLinkSigner(secret_key=settings.secret_key, public_url=settings.public_url)
    # How every texted card, template, topic and record page shows a record.
    views = RecordViews(links, settings.zone)
    uow: ReadingUnitOfWork[RecordRepositories] = (
        InstanceRecordsUnitOfWork(remote_records, record_store.AccountsOnTheirOwn(db))
        if isinstance(remote_records, ServiceNowRecords)
        else record_store.incidents(db)
    )
    return _Records(links, views, Incidents(uow, links, clock))


@dataclass(frozen=True)
class _Ops:
    readiness: Readiness
    outbox_gauges: OutboxGauges
    media_files: MediaFiles


def _ops(settings: Settings, *, db: AsyncEngine, clock: Clock, signer: MediaUrlSigner) -> _Ops:
    """What /readyz, /metrics and /media read."""
    return _Ops(
        Readiness(SqlDatabaseProbe(db)),
        OutboxGauges(SqlOutboxBacklog(db), clock),
        MediaFiles(
            tokens=signer,
            store=SqlMediaStore(db),
            previews=ThreadedPreviews(max_pixels=settings.media_max_pixels),
            clock=clock,
            demo=demo_media,
            topic_images=SqlTopicMedia(db).load,
        ),
    )


@dataclass(frozen=True)
class _Sending:
    gateway: SmsGateway
    signer: MediaUrlSigner
    dispatcher: Dispatcher
    loop: Loop


def _sending(
    settings: Settings,
    *,
    db: AsyncEngine,
    clock: Clock,
    http: httpx.AsyncClient,
    redis: Redis | None,
    gateway: SmsGateway | None,
) -> _Sending:
    """The outbox's dispatcher, its gateway and its loop."""
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
    pacer: Pacer = (
        RedisPacer(redis, settings.send_rate_per_number)
        if redis is not None
        else LocalPacer(settings.send_rate_per_number)
    )
    dispatcher = Dispatcher(
        uow=repositories.sending(db, gate=send_gate),
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
        # Long enough for a claimed batch's pacing (≤ 2 s) and one timed-out call, short
        # enough that a crashed process's texts are not held up for long.
        lease=timedelta(seconds=2 * settings.send_timeout_seconds + 5),
    )
    return _Sending(gateway, signer, dispatcher, Loop("dispatcher", dispatcher.run_once, idle=0.5))


def _reconciling(
    settings: Settings,
    *,
    db: AsyncEngine,
    clock: Clock,
    gateway: SmsGateway,
    publish: Callable[[WorkspaceEvent], Awaitable[None]],
) -> Loop:
    """Asks Twilio about sent texts whose status never arrived."""
    reconciler = Reconciler(
        uow=repositories.reconciling(db),
        gateway=gateway,
        clock=clock,
        after=timedelta(seconds=settings.reconcile_after_seconds),
        rate=settings.reconcile_rate,
        publish=publish,
    )
    return Loop("reconciler", reconciler.run_once, idle=1.0)


@dataclass(frozen=True)
class _Notifications:
    files: NotificationFiles
    loop: Loop
    use_cases: Notifications


def _notifications(
    settings: Settings,
    *,
    db: AsyncEngine,
    clock: Clock,
    views: RecordViews,
    wake_sender: Callable[[], None],
) -> _Notifications:
    # A broken replies.yaml stops the start, like a bad topic.
    files = NotificationFiles(settings.notification_templates_dir)
    files.wording()
    notifier = Notifier(
        uow=notification_store.notifying(db),
        clock=clock,
        templates=files,
        views=views,
        on_enqueued=wake_sender,
    )
    use_cases = Notifications(
        subscriptions=SubscriptionSettings(
            uow=notification_store.subscription_settings(db), clock=clock
        ),
        requests=NotificationRequests(
            uow=notification_store.notifying(db), templates=files, views=views, clock=clock
        ),
        history=NotificationHistory(uow=notification_store.delivery(db)),
    )
    # Polled: record events come from API requests, topics and agents in any process.
    return _Notifications(files, Loop("notifier", notifier.run_once, idle=0.5), use_cases)


@dataclass(frozen=True)
class _LiveAgents:
    desk: Desk
    loop: Loop
    heartbeat: Heartbeat
    workspace: Workspace


def _live_agents(
    settings: Settings,
    *,
    db: AsyncEngine,
    clock: Clock,
    engine: Engines,
    views: RecordViewer,
    publish: Callable[[WorkspaceEvent], Awaitable[None]],
    wake_sender: Callable[[], None],
    media: UrlFor,
    record_links: UrlFor,
    remote: RemoteTexters | None,
    desk_records: DeskRecords | None,
) -> _LiveAgents:
    """The agents' desk, the assigner that offers, reminds and closes chats, the
    heartbeat that tells every process whose Workspace is open here, and the
    Workspace's pages (``media`` and ``record_links`` sign what they link)."""
    desk = Desk(
        uow=live_agent_store.desk(db),
        clock=clock,
        engines=engine,
        record_views=views,
        images=PillowImageChecker(),
        max_image_bytes=settings.media_max_bytes,
        max_image_pixels=settings.media_max_pixels,
        remote_records=desk_records,
    )
    assigner = Assigner(
        uow=repositories.assignment(
            db,
            # On the pass's own connection: its locks are already held.
            end_chat=lambda conn, conversation_id, now: desk.at(live_agent_store.SqlDesk(conn)).end(
                None, conversation_id, now, ended_by="timeout"
            ),
        ),
        clock=clock,
        timers=Timers(
            offer_timeout=timedelta(seconds=settings.offer_timeout_seconds),
            remind_after=timedelta(minutes=settings.agent_remind_minutes),
            idle_close=timedelta(minutes=settings.agent_idle_close_minutes),
            presence_grace=timedelta(seconds=settings.presence_grace_seconds),
        ),
        publish=publish,
        on_enqueued=wake_sender,
    )
    heartbeat = Heartbeat(
        uow=live_agent_store.presence(db),
        clock=clock,
        grace=timedelta(seconds=settings.presence_grace_seconds),
    )
    workspace = Workspace(
        reads=workspace_reads.SqlReads(db),
        backlog=SqlOutboxBacklog(db),
        clock=clock,
        timing=WorkspaceTiming(
            remind_after=timedelta(minutes=settings.agent_remind_minutes),
            presence_grace=timedelta(seconds=settings.presence_grace_seconds),
            give_up_after=timedelta(seconds=settings.send_give_up_after_seconds),
        ),
        media=media,
        record_links=record_links,
        remote=remote,
    )
    return _LiveAgents(desk, Loop("assigner", assigner.run_once, idle=1.0), heartbeat, workspace)


def _virtual_agent(
    settings: Settings,
    *,
    engine: Engines,
    views: RecordViewer,
    files: NotificationFiles,
    remote_records: RecordStore | None,
) -> VirtualAgent:
    effects = EffectRunner(
        views=views,
        max_media_bytes=settings.media_max_bytes,
        max_media_pixels=settings.media_max_pixels,
    )
    return VirtualAgent(
        engine,
        effects,
        SubscriptionCommands(files, repositories=lambda turn: turn.repos.subscriptions),
        records=lambda turn: turn.repos.records,
        agents=LiveAgents(
            grace=timedelta(seconds=settings.presence_grace_seconds),
            repositories=lambda turn: turn.repos.handoffs,
        ),
        remote_records=remote_records,
    )


@dataclass(frozen=True)
class _Inbound:
    committer: GroupCommitter[SqlAnswering]
    fetcher: MediaFetcher
    processor: InboxProcessor
    loop: Loop


def _inbound(
    settings: Settings,
    *,
    db: AsyncEngine,
    clock: Clock,
    http: httpx.AsyncClient,
    profiles: TexterProfiles | None,
    converser: Converser,
    updates: WorkspaceUpdates,
    wake_sender: Callable[[], None],
    wake_assigner: Callable[[], None],
) -> _Inbound:
    """The webhook's writer (the group committer) and the inbox's processor and loop;
    ``profiles``: who texts, when people are kept in another service (ServiceNow)."""
    api_origin, api_prefix = media_origins.api_origin(settings.api_url)
    fetcher = TwilioMediaFetcher(
        http,
        account_sid=settings.account_sid,
        auth_token=settings.auth_token,
        allowed_origins=settings.allowed_media_origins,
        api_origin=api_origin,
        api_prefix=api_prefix,
        max_bytes=settings.media_max_bytes,
    )

    def processed(conversation_ids: AbstractSet[int]) -> None:
        wake_assigner()
        updates.texts_answered(conversation_ids)

    def wake_inbox_loop() -> None:
        process_loop.wake()  # defined below: the loop needs the processor

    processor = InboxProcessor(
        uow=answering_repositories.answering(db, profiles),
        converser=converser,
        fetcher=fetcher,
        images=PillowImageChecker(),
        clock=clock,
        max_pixels=settings.media_max_pixels,
        on_enqueued=wake_sender,
        on_processed=processed,
        on_deferred=wake_inbox_loop,
        # Only the virtual agent stops a turn before a remote effect, and resumes it.
        resumer=converser if isinstance(converser, VirtualAgent) else None,
        profiles=profiles,
    )
    process_loop = Loop("inbox", processor.run_once, idle=1.0)
    committer = answering_repositories.group_commit(db, profiles)
    inbound.register_writers(committer, processor)
    return _Inbound(committer, fetcher, processor, process_loop)
