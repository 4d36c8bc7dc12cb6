"""The `textdesk` command: serve, worker, migrate, bench, chat; the rest in sibling modules."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from textdesk.adapters.db.database import is_sqlite, migrate
from textdesk.bootstrap import build, settle_heap
from textdesk.cli.api_tokens import tokens_app
from textdesk.cli.chat import run_chat
from textdesk.cli.common import (
    check_topics,
    configure_logging,
    console,
    load_settings,
    refuse_without_transport,
)
from textdesk.cli.demo import demo_app
from textdesk.cli.numbers import numbers_app
from textdesk.cli.records import records_app
from textdesk.cli.servicenow import servicenow_sandbox
from textdesk.cli.staff import agents_app, queues_app
from textdesk.cli.topics import topics_app
from textdesk.cli.users import users_app

app = typer.Typer(
    help="textdesk: a conversational SMS service desk.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# The order here is the order of `textdesk --help`.
app.add_typer(numbers_app, name="numbers")
app.add_typer(users_app, name="users")
app.add_typer(demo_app, name="demo")
app.add_typer(topics_app, name="topics")
app.add_typer(tokens_app, name="api-tokens")
app.add_typer(agents_app, name="agents")
app.add_typer(queues_app, name="queues")
app.add_typer(records_app, name="records")
app.command("servicenow-sandbox")(servicenow_sandbox)
# How long uvicorn's supervisor waits for a worker of `serve --workers N` to answer its
# health check before killing it.  uvicorn's 5 s default is shorter than a worker's
# start on a busy machine (over 30 s was measured): each was killed before it could
# answer, and replaced by another that would be, for ever.  A hung worker is still
# replaced, after this long.
WORKER_HEALTHCHECK_SECONDS = 60


@app.command("migrate")
def migrate_cmd() -> None:
    """Upgrade the database schema to the latest version."""
    settings = load_settings()
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
    settings = load_settings()
    configure_logging(settings)
    refuse_without_transport(settings)
    check_topics(settings)
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
    settings = load_settings()
    configure_logging(settings)
    refuse_without_transport(settings)
    check_topics(settings)

    async def run() -> None:
        container = build(settings)
        await container.start(background=True)
        settle_heap()
        try:
            await asyncio.Event().wait()
        finally:
            await container.stop()

    asyncio.run(run())


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
    raise typer.Exit(run_chat(url=url or load_settings().public_url, phone=from_, number=to))
