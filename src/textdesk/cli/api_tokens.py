"""`textdesk api-tokens`: tokens for the REST API."""

from __future__ import annotations

import typer

from textdesk.bootstrap import admin_use_cases
from textdesk.cli.common import (
    console,
    load_settings,
    with_db,
)

tokens_app = typer.Typer(help="Tokens for the REST API (/api/v1).", no_args_is_help=True)


@tokens_app.command("create")
def tokens_create(name: str) -> None:
    """Create an API token; it is shown once."""
    settings = load_settings()
    token = with_db(settings, lambda db: admin_use_cases(db).api_tokens.create(name))
    console.print(f"API token for {name} (shown once; send as 'Authorization: Bearer …'):")
    console.print(token, soft_wrap=True, highlight=False)


@tokens_app.command("list")
def tokens_list() -> None:
    """Tokens by id and name, with when each was last used (secrets are never shown)."""
    settings = load_settings()
    for t in with_db(settings, lambda db: admin_use_cases(db).api_tokens.all()):
        used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
        console.print(f"{t.id}\t{t.name}\tcreated {t.created_at:%Y-%m-%d}\tlast used {used}")


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by id (see `api-tokens list`): it is refused at once."""
    settings = load_settings()
    if not with_db(settings, lambda db: admin_use_cases(db).api_tokens.revoke(token_id)):
        console.print(f"[red]no token {token_id}[/red]")
        raise typer.Exit(1)
    console.print(f"token {token_id} revoked")
