"""`textdesk demo seed`: the demo number, accounts, records and agents."""

from __future__ import annotations

import typer

from textdesk.adapters.files.install_state import mark_demo
from textdesk.bootstrap import admin_use_cases
from textdesk.cli.common import (
    console,
    load_settings,
    with_db,
)

demo_app = typer.Typer(help="Demo content.", no_args_is_help=True)


@demo_app.command("seed")
def demo_seed() -> None:
    """Create the demo number, accounts and records (idempotent); make the install a demo."""
    settings = load_settings()
    for line in with_db(settings, lambda db: admin_use_cases(db).demo.seed()):
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
