"""``textdesk topics``: check, describe and test a topic folder.

Pure commands for designers and CI: they read files and print, needing no database
and no ``TEXTDESK_`` settings.  Paths and messages are printed without wrapping so
``file:line`` stays clickable in editors and greppable in CI logs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db.topics import topic_store
from textdesk.adapters.image_checks import PillowImageChecker
from textdesk.cli.common import load_settings, with_db
from textdesk.config import Settings, zone_named
from textdesk.domain.topics.schema import settings_json_schema, topic_json_schema
from textdesk.ports import TopicAsset
from textdesk.topic_tools.asset_files import folder_images, folder_scripts, write_assets
from textdesk.topic_tools.script_runner import (
    ScriptResult,
    default_scripts_dir,
    find_scripts,
    run_scripts,
)
from textdesk.topic_tools.topic_files import (
    Document,
    TopicFileError,
    folder_documents,
    load_topics,
    validate_dir,
)
from textdesk.topics.assets import TopicAssets
from textdesk.topics.library import TopicLibrary

__all__ = ["topics_app"]

topics_app = typer.Typer(
    help="Topic files: validate them, export their JSON Schema, run conversation scripts.",
    no_args_is_help=True,
)

TopicsDir = Annotated[
    Path,
    typer.Argument(metavar="DIR", help="The folder of topic files (*.yaml and _settings.yaml)."),
]


def _console() -> Console:
    # Built per command so a test runner's captured stdout is the one written to.
    return Console(highlight=False, soft_wrap=True)


@topics_app.command("validate")
def validate_cmd(directory: TopicsDir) -> None:
    """Check every topic file: errors (file:line: field: message) fail, warnings don't."""
    console = _console()
    errors, warnings = validate_dir(directory)
    for error in errors:
        console.print(Text.assemble(("error ", "bold red"), error))
    for warning in warnings:
        console.print(Text.assemble(("warning ", "yellow"), warning))
    if errors:
        console.print(Text(f"✗ {directory}: {_count(errors, 'error')}", style="bold red"))
        raise typer.Exit(1)
    summary = f"✓ {directory}: no errors"
    if warnings:
        summary += f", {_count(warnings, 'warning')}"
    console.print(Text(summary, style="green"))


@topics_app.command("schema")
def schema_cmd(
    settings: Annotated[
        bool, typer.Option("--settings", help="The schema of _settings.yaml instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of a topic file (for editor completion and checks)."""
    schema = settings_json_schema() if settings else topic_json_schema()
    typer.echo(json.dumps(schema, indent=2))


@topics_app.command("test")
def scripts_cmd(
    directory: TopicsDir,
    scripts: Annotated[
        Path | None,
        typer.Option(
            help="A script file or a folder of them "
            "(default: DIR/../scripts if it exists, else DIR/scripts)."
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print every conversation in full.")
    ] = False,
    timezone: Annotated[
        str,
        typer.Option(
            envvar="TEXTDESK_TIMEZONE", help="The desk's timezone, in which records show dates."
        ),
    ] = "UTC",
) -> None:
    """Run conversation scripts against the topics, in memory; exit 1 if any fails."""
    console = _console()
    try:
        zone = zone_named(timezone)
    except ValueError as exc:
        console.print(Text.assemble(("error ", "bold red"), str(exc)))
        raise typer.Exit(1) from exc
    try:
        topics = load_topics(directory)
    except TopicFileError as exc:
        for error in exc.errors:
            console.print(Text.assemble(("error ", "bold red"), error))
        console.print(Text(f"✗ {directory}: the topics do not load", style="bold red"))
        raise typer.Exit(1) from exc
    where = scripts or default_scripts_dir(directory)
    paths = find_scripts(where) if where.exists() else []
    if not paths:
        console.print(Text(f"✗ no scripts (*.yaml) in {where}", style="bold red"))
        raise typer.Exit(1)
    results = run_scripts(paths, topics, zone=zone)
    for result in results:
        _show(console, result, verbose=verbose)
    failed = sum(not r.ok for r in results)
    passed = len(results) - failed
    style = "bold red" if failed else "bold green"
    console.print(Text(f"\n{passed} passed, {failed} failed", style=style))
    if failed:
        raise typer.Exit(1)


def _show(console: Console, result: ScriptResult, *, verbose: bool) -> None:
    mark = Text("✓ ", style="green") if result.ok else Text("✗ ", style="bold red")
    run = f"{len(result.steps)}/{result.total} steps" if result.total else "not run"
    console.print(mark + Text(result.name) + Text(f"  {result.path.name}, {run}", style="dim"))
    if verbose:
        for step in result.steps:
            console.print(Text(f"    › {step.label}", style="cyan"))
            for reply in step.replies:
                for line in reply.body.splitlines():
                    console.print(Text(f"      {line}"))
                if reply.media:
                    console.print(Text(f"      [media: {', '.join(reply.media)}]", style="dim"))
    for line in result.explain():
        console.print(Text(f"    {line}", style="red" if not line.startswith(" ") else ""))


def _count(items: list[str], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _library(db: AsyncEngine) -> TopicLibrary:
    return TopicLibrary(topic_store(db), SystemClock())


def _assets(db: AsyncEngine, settings: Settings) -> TopicAssets:
    return TopicAssets(
        topic_store(db),
        SystemClock(),
        library=_library(db),
        images=PillowImageChecker(),
        max_bytes=settings.media_max_bytes,
        max_pixels=settings.media_max_pixels,
    )


@topics_app.command("import")
def import_cmd(directory: TopicsDir) -> None:
    """Load a folder into the database: new and changed topics that are valid are
    published; one with errors is kept as an invalid draft (exit 1, saying where).
    Images in DIR/media/<topic>/ and scripts DIR/scripts/<topic>__<name>.yaml are
    stored with their topics."""
    console = _console()
    settings = load_settings()
    if not directory.is_dir():
        console.print(Text.assemble(("error ", "bold red"), f"{directory}: not a folder"))
        raise typer.Exit(1)
    documents = folder_documents(directory)
    images, scripts = folder_images(directory), folder_scripts(directory)
    report = with_db(
        settings,
        lambda db: _assets(db, settings).import_folder(
            documents,
            images,
            scripts,
            by=f"topics import {directory}",
            publish_changed=True,
        ),
    )
    for error in report.errors:
        console.print(Text.assemble(("error ", "bold red"), str(error)))
    console.print(
        f"published: {', '.join(report.published) or 'none'}; "
        f"unchanged: {len(report.unchanged)}; "
        f"kept as drafts: {', '.join(report.drafted) or 'none'}; "
        f"images and scripts stored: {len(report.assets)}"
    )
    if report.errors:
        raise typer.Exit(1)


@topics_app.command("export")
def export_cmd(directory: TopicsDir) -> None:
    """Write the published topics as YAML files into DIR, each exactly as published,
    with their images (DIR/media/<topic>/) and scripts (DIR/scripts/)."""
    console = _console()
    settings = load_settings()

    async def published(db: AsyncEngine) -> tuple[list[Document], list[TopicAsset]]:
        library = _library(db)
        return await library.published_documents(), await library.published_assets()

    documents, assets = with_db(settings, published)
    directory.mkdir(parents=True, exist_ok=True)
    for document in documents:
        # As bytes: the very text imported or published, line endings included.
        (directory / document.name).write_bytes(document.text.encode("utf-8"))
    written = write_assets(directory, assets)
    console.print(
        f"{len(documents)} published topics written to {directory}"
        + (f", with {written} images and scripts" if written else "")
    )
