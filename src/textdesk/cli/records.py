"""`textdesk records`: the built-in store's records, exported for a move to ServiceNow."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from textdesk.adapters.db.records import incidents
from textdesk.cli.common import console, load_settings, with_db
from textdesk.records.export import all_records, as_csv, as_json

records_app = typer.Typer(help="The built-in record store's incidents.", no_args_is_help=True)


class Format(StrEnum):
    csv = "csv"
    json = "json"


@records_app.command("export")
def records_export(
    format: Annotated[
        Format, typer.Option("--format", help="csv (one row per record) or json (everything).")
    ] = Format.csv,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of to stdout.")
    ] = None,
) -> None:
    """Every incident of the built-in store, oldest first, with comments and notes."""
    settings = load_settings()
    records = with_db(settings, lambda db: all_records(incidents(db)))
    text = as_csv(records) if format is Format.csv else as_json(records) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"{len(records)} records written to {output}")
