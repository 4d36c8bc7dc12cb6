"""`textdesk numbers`: the Twilio numbers and what each is for."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from textdesk.admin import numbers
from textdesk.bootstrap import admin_use_cases
from textdesk.cli.common import (
    console,
    load_settings,
    with_db,
)
from textdesk.domain.phones import InvalidPhone, to_e164

numbers_app = typer.Typer(help="The Twilio numbers textdesk uses.", no_args_is_help=True)


@numbers_app.command("add")
def numbers_add(
    number: str,
    purpose: Annotated[str, typer.Option(help="conversational | notify")] = "conversational",
) -> None:
    """Configure a Twilio number for one purpose."""
    settings = load_settings()
    try:
        e164 = with_db(
            settings, lambda db: admin_use_cases(db).numbers.add(phone=number, purpose=purpose)
        )
    except (numbers.NumberConflict, InvalidPhone, ValueError) as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"{e164} is configured for {purpose}")


@numbers_app.command("list")
def numbers_list() -> None:
    """List configured numbers."""
    settings = load_settings()
    table = Table("number", "purpose")
    for row in with_db(settings, lambda db: admin_use_cases(db).numbers.all()):
        table.add_row(row.phone, row.purpose)
    console.print(table)


@numbers_app.command("remove")
def numbers_remove(number: str) -> None:
    """Stop using a number."""
    settings = load_settings()
    e164 = to_e164(number)
    if not with_db(settings, lambda db: admin_use_cases(db).numbers.remove(e164)):
        console.print(f"[red]{e164} is not configured[/red]")
        raise typer.Exit(1)
    console.print(f"{e164} removed")
