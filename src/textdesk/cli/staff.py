"""`textdesk agents` and `textdesk queues`: the Workspace's people and their queues."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from textdesk.admin import agents, staff
from textdesk.bootstrap import admin_use_cases
from textdesk.cli.common import (
    confirm_removal,
    console,
    load_settings,
    with_db,
)
from textdesk.domain.live_agents import InvalidHours, hours_from_text

agents_app = typer.Typer(
    help="Live agents who answer texters from the Workspace.", no_args_is_help=True
)
queues_app = typer.Typer(help="Queues of live agents, with business hours.", no_args_is_help=True)


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
    settings = load_settings()
    try:
        agent_id = with_db(
            settings,
            lambda db: admin_use_cases(db).agents.add_agent(
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
    for a in with_db(load_settings(), lambda db: admin_use_cases(db).staff.list_agents()):
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
    settings = load_settings()
    try:
        agent = with_db(settings, lambda db: admin_use_cases(db).staff.find_agent(email=email))
        held = with_db(settings, lambda db: admin_use_cases(db).staff.agent_footprint(agent=agent))
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
    confirm_removal("Remove this agent?", yes=yes)
    try:
        with_db(settings, lambda db: admin_use_cases(db).staff.remove_agent(agent=agent))
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
    settings = load_settings()
    try:
        parsed = hours_from_text(hours)
        with_db(
            settings,
            lambda db: admin_use_cases(db).agents.add_queue(
                name=name, timezone=timezone, hours=parsed, is_default=default
            ),
        )
    except (agents.AgentError, InvalidHours) as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"queue {name} saved")


@queues_app.command("list")
def queues_list() -> None:
    """List queues and their members."""
    settings = load_settings()
    table = Table("queue", "timezone", "hours", "agents")
    for q, members in with_db(
        settings, lambda db: admin_use_cases(db).agents.queues_with_members()
    ):
        when = (
            "always"
            if q.hours is None
            else ", ".join(f"{d} {h[0]}-{h[1]}" for d, h in q.hours.items())
        )
        table.add_row(
            q.name + (" (default)" if q.is_default else ""), q.timezone, when, ", ".join(members)
        )
    console.print(table)


@queues_app.command("remove")
def queues_remove(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Remove a queue; refused while chats are in it or it is the default; asks first."""
    settings = load_settings()
    try:
        queue = with_db(settings, lambda db: admin_use_cases(db).staff.find_queue(name=name))
        held = with_db(settings, lambda db: admin_use_cases(db).staff.queue_footprint(queue=queue))
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
    confirm_removal("Remove this queue?", yes=yes)
    try:
        with_db(settings, lambda db: admin_use_cases(db).staff.remove_queue(queue=queue))
    except agents.AgentError as exc:
        console.print(f"[red]refused:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc
    console.print(f"queue {queue.name} removed")
