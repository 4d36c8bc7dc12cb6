"""What every `textdesk` command shares: settings, the database, confirmations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.db.database import create_engine
from textdesk.config import Settings
from textdesk.topic_tools.topic_files import validate_dir

console = Console()
T = TypeVar("T")


def load_settings() -> Settings:
    """The settings, or the configuration errors printed and exit code 2."""
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            console.print(f"[red]configuration error:[/red] {error['msg']}")
        raise typer.Exit(2) from exc


def check_topics(settings: Settings) -> None:
    """Say what is wrong with the topic folder the desk imports, in its terms.

    The start goes on: each file that cannot be used is kept as an invalid draft and
    the published version of its topic (if any) keeps serving; an operator needs the
    file, the line and the field, here rather than in the log.
    """
    folder = settings.topics_dir
    if folder is None:
        return
    errors, _ = validate_dir(folder)
    if not errors:
        return
    console.print(f"[yellow]Some topics in {folder} cannot be used yet:[/yellow]")
    for error in errors:
        console.print(f"  {error}", markup=False, highlight=False)
    console.print(
        "They are kept as drafts (the published versions serve); fix them and publish "
        "(`textdesk topics validate DIR` checks a folder)."
    )


def refuse_without_transport(settings: Settings) -> None:
    """Stop a server or worker that could not carry texts, saying what to set."""
    problem = settings.transport_problem()
    if problem:
        console.print(f"[red]refused:[/red] {problem}", soft_wrap=True)
        raise typer.Exit(2)


def confirm_removal(question: str, *, yes: bool) -> None:
    """Ask before a removal (``--yes`` skips it); a no, or no terminal, removes nothing."""
    if not yes and not typer.confirm(question, default=False):
        console.print("nothing removed")
        raise typer.Exit(1)


def with_db(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
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


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
