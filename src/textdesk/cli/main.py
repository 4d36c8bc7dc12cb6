"""The `textdesk` command line: thin wrappers around services."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db import directory
from textdesk.adapters.db.database import create_engine, is_sqlite, migrate
from textdesk.adapters.files.install_state import mark_demo
from textdesk.admin import agents, api_tokens, demo, numbers, staff, users
from textdesk.bootstrap import build, settle_heap
from textdesk.cli.chat import run_chat
from textdesk.cli.topics import topics_app
from textdesk.config import Settings
from textdesk.domain.live_agents import InvalidHours, hours_from_text
from textdesk.domain.phones import InvalidPhone, to_e164
from textdesk.topic_tools.topic_files import TopicFileError, load_topics

app = typer.Typer(
    help="textdesk: a conversational SMS service desk.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
numbers_app = typer.Typer(help="The Twilio numbers textdesk uses.", no_args_is_help=True)
users_app = typer.Typer(help="Accounts (people recognised by their phone).", no_args_is_help=True)
demo_app = typer.Typer(help="Demo content.", no_args_is_help=True)
app.add_typer(numbers_app, name="numbers")
app.add_typer(users_app, name="users")
app.add_typer(demo_app, name="demo")
app.add_typer(topics_app, name="topics")
console = Console()
T = TypeVar("T")
# How long uvicorn's supervisor waits for a worker of `serve --workers N` to answer its
# health check before killing it.  uvicorn's 5 s default is shorter than a worker's
# start on a busy machine (over 30 s was measured): each was killed before it could
# answer, and replaced by another that would be, for ever.  A hung worker is still
# replaced, after this long.
WORKER_HEALTHCHECK_SECONDS = 60


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            console.print(f"[red]configuration error:[/red] {error['msg']}")
        raise typer.Exit(2) from exc


def _check_topics(settings: Settings) -> None:
    """Refuse to start on a topic folder that cannot be used, saying why in its terms.

    The app would fail the same way while starting, but as a traceback from inside
    the server; an operator needs the file, the line and the field.
    """
    try:
        load_topics(settings.topics_dir)
    except TopicFileError as exc:
        console.print(f"[red]The topics in {settings.topics_dir} cannot be used:[/red]")
        for error in exc.errors:
            console.print(f"  {error}", markup=False, highlight=False)
        console.print(
            "Fix them (`textdesk topics validate DIR` checks a folder), then start again."
        )
        raise typer.Exit(2) from exc


def _refuse_without_transport(settings: Settings) -> None:
    """Stop a server or worker that could not carry texts, saying what to set."""
    problem = settings.transport_problem()
    if problem:
        console.print(f"[red]refused:[/red] {problem}", soft_wrap=True)
        raise typer.Exit(2)


def _confirm_removal(question: str, *, yes: bool) -> None:
    """Ask before a removal (``--yes`` skips it); a no, or no terminal, removes nothing."""
    if not yes and not typer.confirm(question, default=False):
        console.print("nothing removed")
        raise typer.Exit(1)


def _with_db(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def run() -> T:
        db = create_engine(settings.database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except (OperationalError, ProgrammingError) as exc:
        # The usual first-run slip: a command before `migrate`. Say so, not a traceback.
        if "no such table" not in str(exc) and "does not exist" not in str(exc):
            raise
        console.print(
            "[red]The database has no textdesk tables yet:[/red] run `textdesk migrate` "
            "first (make run does it for you)."
        )
        raise typer.Exit(2) from exc


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@app.command("migrate")
def migrate_cmd() -> None:
    """Upgrade the database schema to the latest version."""
    settings = _settings()
    migrate(settings.database_url)
    console.print("database is up to date")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    dispatcher: Annotated[
        bool,
        typer.Option(
            help="Run the inbox loop, the dispatcher and the timers in this process "
            "(texts are answered as they come either way; without it a 'textdesk worker' "
            "sends them)."
        ),
    ] = True,
) -> None:
    """Serve the web app (webhooks, workspace, API) and, by default, the dispatcher."""
    settings = _settings()
    _logging(settings)
    _refuse_without_transport(settings)
    _check_topics(settings)
    if workers > 1 and is_sqlite(settings.database_url):
        console.print(
            "[red]SQLite serves one process; use PostgreSQL (TEXTDESK_DATABASE_URL) "
            "for --workers > 1.[/red]"
        )
        raise typer.Exit(2)
    # The worker processes read their settings afresh; pass our choices on.
    if not dispatcher:
        os.environ["TEXTDESK_RUN_BACKGROUND"] = "0"
    if "public_url" not in settings.model_fields_set:
        # Unset public URL: Twilio (or the sandbox) reaches us where we listen.
        os.environ["TEXTDESK_PUBLIC_URL"] = f"http://{host}:{port}"
    base = f"http://{host}:{port}"
    if settings.sandbox:
        console.print(f"demo sandbox (no Twilio credentials): text the bot at {base}/simulator")
    console.print(f"Agent Workspace: {base}/workspace    REST API: {base}/api/docs")
    uvicorn.run(
        "textdesk.web.app:app_from_settings",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        # uvicorn would believe X-Forwarded-For from loopback, so anyone on this host
        # (or a proxy in front that passes the header on) could choose their address:
        # the app believes it only from TEXTDESK_TRUSTED_PROXIES (web/forwarded.py).
        proxy_headers=False,
        access_log=False,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Throughput and latency against two floors (a source checkout's `make bench`).

    Extra options go to the harness: `textdesk bench --duration 10 --repeat 1`.
    """
    root = Path(__file__).resolve().parents[3]
    if not (root / "benchmarks" / "webhook.py").is_file():
        console.print("[red]the benchmark ships with the source checkout, not the package[/red]")
        raise typer.Exit(2)
    command = [sys.executable, "-m", "benchmarks.webhook", *ctx.args]
    raise typer.Exit(subprocess.call(command, cwd=root))  # noqa: S603 (our own harness)


@app.command()
def worker() -> None:
    """Run the inbox processor and outbox dispatcher as their own process."""
    settings = _settings()
    _logging(settings)
    _refuse_without_transport(settings)
    _check_topics(settings)

    async def run() -> None:
        container = build(settings)
        await container.start(background=True)
        settle_heap()
        try:
            await asyncio.Event().wait()
        finally:
            await container.stop()

    asyncio.run(run())


@numbers_app.command("add")
def numbers_add(
    number: str,
    purpose: Annotated[str, typer.Option(help="conversational | notify")] = "conversational",
) -> None:
    """Configure a Twilio number for one purpose."""
    settings = _settings()
    clock = SystemClock()
    try:
        e164 = _with_db(
            settings,
            lambda db: numbers.add_number(db=db, clock=clock, phone=number, purpose=purpose),
        )
    except (numbers.NumberConflict, InvalidPhone, ValueError) as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"{e164} is configured for {purpose}")


@numbers_app.command("list")
def numbers_list() -> None:
    """List configured numbers."""
    settings = _settings()

    async def work(db: AsyncEngine) -> list[directory.NumberRow]:
        async with db.connect() as conn:
            return await directory.list_numbers(conn)

    table = Table("number", "purpose")
    for row in _with_db(settings, work):
        table.add_row(row.phone, row.purpose)
    console.print(table)


@numbers_app.command("remove")
def numbers_remove(number: str) -> None:
    """Stop using a number."""
    settings = _settings()
    e164 = to_e164(number)

    async def work(db: AsyncEngine) -> bool:
        async with db.begin() as conn:
            return await directory.remove_number(conn, e164)

    if not _with_db(settings, work):
        console.print(f"[red]{e164} is not configured[/red]")
        raise typer.Exit(1)
    console.print(f"{e164} removed")


@users_app.command("add")
def users_add(
    name: str,
    phone: Annotated[str, typer.Option(help="Mobile number; E.164 or national (US)")],
    email: str | None = None,
) -> None:
    """Create one account."""
    settings = _settings()
    clock = SystemClock()
    try:
        user_id = _with_db(
            settings,
            lambda db: users.add_user(db=db, clock=clock, name=name, phone=phone, email=email),
        )
    except (users.DuplicatePhone, InvalidPhone) as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"account {user_id} created")


@users_app.command("import")
def users_import(path: Path) -> None:
    """Import accounts from a CSV file with columns name, email, phone."""
    settings = _settings()
    clock = SystemClock()
    report = _with_db(settings, lambda db: users.import_users(db=db, clock=clock, path=path))
    console.print(f"{report.added} added, {report.skipped} already known")
    for error in report.errors or []:
        console.print(f"[yellow]{error}[/yellow]")
    if report.errors:
        # A script importing a directory export must notice rows left behind.
        raise typer.Exit(1)


@users_app.command("list")
def users_list() -> None:
    """Accounts, oldest first."""
    found = _with_db(_settings(), lambda db: users.list_users(db=db))
    table = Table("id", "name", "phone", "email")
    for user in found:
        table.add_row(str(user.id), user.name, user.phone or "", user.email or "")
    console.print(table)


@users_app.command("remove")
def users_remove(
    phone: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Remove an account; says what goes with it and asks first."""
    settings = _settings()
    try:
        user = _with_db(settings, lambda db: users.find_user(db=db, phone=phone))
    except (users.NoSuchUser, InvalidPhone) as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    held = _with_db(settings, lambda db: users.user_footprint(db=db, user=user))
    console.print(
        f"Removing {user.name} ({user.phone}) deletes the account, its notification "
        f"subscription ({'on' if held.subscribed else 'off'}) and its history "
        f"({held.subscription_changes} subscription change(s), "
        f"{held.notifications} notification(s)).\n"
        f"Kept, no longer linked to an account: {held.conversations} conversation(s) with "
        f"their transcripts and {held.records} record(s), which stay the number's. "
        f"Texts from {user.phone} are then a guest's.",
        soft_wrap=True,
    )
    _confirm_removal("Remove this account?", yes=yes)
    _with_db(settings, lambda db: users.remove_user(db=db, user=user))
    console.print(f"account {user.id} removed")


@demo_app.command("seed")
def demo_seed() -> None:
    """Create the demo number, accounts and records (idempotent); make the install a demo."""
    settings = _settings()
    clock = SystemClock()
    for line in _with_db(settings, lambda db: demo.seed(db=db, clock=clock)):
        console.print(line)
    folder = settings.data_dir
    if folder is None:
        console.print(
            "this database has no data folder to record demo mode in: set TEXTDESK_DEMO=1 "
            "for `textdesk serve` to use the sandbox"
        )
        return
    console.print(f"demo mode recorded in {mark_demo(folder)}")
    if "demo" in settings.model_fields_set and not settings.demo:
        console.print("[yellow]TEXTDESK_DEMO=0 is set: it overrides the record[/yellow]")


tokens_app = typer.Typer(help="Tokens for the REST API (/api/v1).", no_args_is_help=True)
app.add_typer(tokens_app, name="api-tokens")


@tokens_app.command("create")
def tokens_create(name: str) -> None:
    """Create an API token; it is shown once."""
    settings = _settings()
    clock = SystemClock()
    token = _with_db(settings, lambda db: api_tokens.create_token(db=db, clock=clock, name=name))
    console.print(f"API token for {name} (shown once; send as 'Authorization: Bearer …'):")
    console.print(token, soft_wrap=True, highlight=False)


@tokens_app.command("list")
def tokens_list() -> None:
    """Tokens by id and name, with when each was last used (secrets are never shown)."""
    settings = _settings()
    for t in _with_db(settings, lambda db: api_tokens.list_tokens(db=db)):
        used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
        console.print(f"{t.id}\t{t.name}\tcreated {t.created_at:%Y-%m-%d}\tlast used {used}")


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by id (see `api-tokens list`): it is refused at once."""
    settings = _settings()
    if not _with_db(settings, lambda db: api_tokens.revoke_token(db=db, token_id=token_id)):
        console.print(f"[red]no token {token_id}[/red]")
        raise typer.Exit(1)
    console.print(f"token {token_id} revoked")


@app.command("chat")
def chat_cmd(
    from_: Annotated[str, typer.Option("--from", help="Your phone number (the texter's).")],
    to: Annotated[
        str | None, typer.Option(help="Our number to text (default: the first conversational).")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="A textdesk running in sandbox mode (default: TEXTDESK_PUBLIC_URL)."),
    ] = None,
) -> None:
    """Text textdesk from the terminal: a phone for a sandbox server (see /simulator)."""
    raise typer.Exit(run_chat(url=url or _settings().public_url, phone=from_, number=to))


agents_app = typer.Typer(
    help="Live agents who answer texters from the Workspace.", no_args_is_help=True
)
queues_app = typer.Typer(help="Queues of live agents, with business hours.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
app.add_typer(queues_app, name="queues")


@agents_app.command("add")
def agents_add(
    name: str,
    email: Annotated[str, typer.Option(help="Sign-in email")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="≥ 10 characters"
        ),
    ],
    role: Annotated[str, typer.Option(help="agent | admin")] = "agent",
    capacity: Annotated[int, typer.Option(help="Chats at once")] = 3,
    queue: Annotated[list[str] | None, typer.Option(help="Queue name (repeatable)")] = None,
) -> None:
    """Create a Workspace account."""
    settings = _settings()
    clock = SystemClock()
    try:
        agent_id = _with_db(
            settings,
            lambda db: agents.add_agent(
                db=db,
                clock=clock,
                name=name,
                email=email,
                password=password,
                role=role,
                capacity=capacity,
                queues=queue or [],
            ),
        )
    except agents.AgentError as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"agent {agent_id} ({email}, {role}) created")


@agents_app.command("list")
def agents_list() -> None:
    """Agents by name, with their queues and the presence they chose."""
    table = Table("id", "name")
    # Only names wrap: a piped list can be grepped for the address `agents remove`
    # takes and for a queue's name.
    for heading in ("email", "role", "capacity", "queues", "presence"):
        table.add_column(heading, no_wrap=True)
    for a in _with_db(_settings(), lambda db: staff.list_agents(db=db)):
        table.add_row(
            str(a.id), a.name, a.email, a.role, str(a.capacity), ", ".join(a.queues), a.presence
        )
    console.print(table)


@agents_app.command("remove")
def agents_remove(
    email: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Remove a Workspace account; refused while a chat is theirs; asks first."""
    settings = _settings()
    try:
        agent = _with_db(settings, lambda db: staff.find_agent(db=db, email=email))
        held = _with_db(settings, lambda db: staff.agent_footprint(db=db, agent=agent))
        if held.open_chats:
            raise staff.StillInUse(agent.email, held.open_chats)
    except agents.AgentError as exc:
        console.print(f"[red]refused:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc
    console.print(
        f"Removing {agent.name} ({agent.email}, {agent.role}) signs them out everywhere, "
        f"takes them out of {held.queues} queue(s) and frees the email; they can no longer "
        "sign in or be offered chats.\n"
        f"Kept, under their name: {held.handoffs} chat(s) they handled and "
        f"{held.lines} transcript line(s) they wrote.",
        soft_wrap=True,
    )
    _confirm_removal("Remove this agent?", yes=yes)
    try:
        _with_db(settings, lambda db: staff.remove_agent(db=db, clock=SystemClock(), agent=agent))
    except agents.AgentError as exc:
        console.print(f"[red]refused:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc
    console.print(f"agent {agent.id} ({agent.email}) removed")


@queues_app.command("add")
def queues_add(
    name: str,
    timezone: Annotated[str, typer.Option(help="IANA zone of the hours")] = "UTC",
    hours: Annotated[
        str, typer.Option(help="e.g. 'mon-fri 09:00-17:00; sat 10:00-14:00'")
    ] = "always",
    default: Annotated[
        bool, typer.Option("--default", help="Transfers without a queue go here")
    ] = False,
) -> None:
    """Create or update a queue."""
    settings = _settings()
    clock = SystemClock()
    try:
        parsed = hours_from_text(hours)
        _with_db(
            settings,
            lambda db: agents.add_queue(
                db=db, clock=clock, name=name, timezone=timezone, hours=parsed, is_default=default
            ),
        )
    except (agents.AgentError, InvalidHours) as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"queue {name} saved")


@queues_app.command("list")
def queues_list() -> None:
    """List queues and their members."""
    settings = _settings()

    async def work(db: AsyncEngine) -> list[tuple[str, str, str, str]]:
        async with db.connect() as conn:
            people = {a.id: a.name for a in await agent_store.list_agents(conn)}
            rows = []
            for q in await agent_store.list_queues(conn):
                loads = await agent_store.loads(conn, q.id, seen_since=SystemClock().now())
                members = [people[a.id] for a in loads if a.id in people]
                when = (
                    "always"
                    if q.hours is None
                    else ", ".join(f"{d} {h[0]}-{h[1]}" for d, h in q.hours.items())
                )
                rows.append(
                    (
                        q.name + (" (default)" if q.is_default else ""),
                        q.timezone,
                        when,
                        ", ".join(members),
                    )
                )
            return rows

    table = Table("queue", "timezone", "hours", "agents")
    for row in _with_db(settings, work):
        table.add_row(*row)
    console.print(table)


@queues_app.command("remove")
def queues_remove(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Remove a queue; refused while chats are in it or it is the default; asks first."""
    settings = _settings()
    try:
        queue = _with_db(settings, lambda db: staff.find_queue(db=db, name=name))
        held = _with_db(settings, lambda db: staff.queue_footprint(db=db, queue=queue))
        if held.open_chats:
            raise staff.StillInUse(f"queue {queue.name}", held.open_chats)
        staff.refuse_default(queue)
    except agents.AgentError as exc:
        console.print(f"[red]refused:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc
    console.print(
        f"Removing queue {queue.name} closes it to new chats (topics and transfers that "
        f"name it use the default queue instead) and frees its name.\n"
        f"Kept: {held.handoffs} ended chat(s) stay in it, readable as before by its "
        f"{held.members} agent(s) and by admins.",
        soft_wrap=True,
    )
    _confirm_removal("Remove this queue?", yes=yes)
    try:
        _with_db(settings, lambda db: staff.remove_queue(db=db, clock=SystemClock(), queue=queue))
    except agents.AgentError as exc:
        console.print(f"[red]refused:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc
    console.print(f"queue {queue.name} removed")
