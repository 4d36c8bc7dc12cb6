"""`textdesk users`: accounts, added, imported, listed and removed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from textdesk.admin import users
from textdesk.bootstrap import admin_use_cases
from textdesk.cli.common import (
    confirm_removal,
    console,
    load_settings,
    with_db,
)
from textdesk.domain.phones import InvalidPhone

users_app = typer.Typer(help="Accounts (people recognised by their phone).", no_args_is_help=True)


@users_app.command("add")
def users_add(
    name: str,
    phone: Annotated[str, typer.Option(help="Mobile number; E.164 or national (US)")],
    email: str | None = None,
) -> None:
    """Create one account."""
    settings = load_settings()
    try:
        user_id = with_db(
            settings,
            lambda db: admin_use_cases(db).accounts.add(name=name, phone=phone, email=email),
        )
    except (users.DuplicatePhone, InvalidPhone) as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"account {user_id} created")


@users_app.command("import")
def users_import(path: Path) -> None:
    """Import accounts from a CSV file with columns name, email, phone."""
    settings = load_settings()
    report = with_db(settings, lambda db: admin_use_cases(db).accounts.import_csv(path))
    console.print(f"{report.added} added, {report.skipped} already known")
    for error in report.errors or []:
        console.print(f"[yellow]{error}[/yellow]")
    if report.errors:
        # A script importing a directory export must notice rows left behind.
        raise typer.Exit(1)


@users_app.command("list")
def users_list() -> None:
    """Accounts, oldest first."""
    found = with_db(load_settings(), lambda db: admin_use_cases(db).accounts.all())
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
    settings = load_settings()
    try:
        user = with_db(settings, lambda db: admin_use_cases(db).accounts.find(phone))
    except (users.NoSuchUser, InvalidPhone) as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    held = with_db(settings, lambda db: admin_use_cases(db).accounts.footprint(user))
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
    confirm_removal("Remove this account?", yes=yes)
    with_db(settings, lambda db: admin_use_cases(db).accounts.remove(user))
    console.print(f"account {user.id} removed")
