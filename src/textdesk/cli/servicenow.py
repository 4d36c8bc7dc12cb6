"""`textdesk servicenow-sandbox`: the ServiceNow stand-in with the demo's people and incidents.

For trying textdesk on top of "an instance" without one: it serves the subset of the
Table API, Attachment API and OAuth that textdesk uses (``adapters/servicenow/sandbox.py``)
and prints the settings that point textdesk at it.
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from textdesk.adapters.servicenow.demo_data import seed_demo
from textdesk.adapters.servicenow.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    FakeServiceNow,
)
from textdesk.cli.common import console

DEFAULT_PORT = 8090


def settings_for(url: str) -> list[str]:
    """The environment that points textdesk at the stand-in served at ``url``."""
    return [
        "TEXTDESK_RECORDS=servicenow",
        f"SERVICENOW_INSTANCE_URL={url}",
        f"SERVICENOW_USERNAME={DEFAULT_USERNAME}",
        f"SERVICENOW_PASSWORD={DEFAULT_PASSWORD}",
        f"# or OAuth: SERVICENOW_CLIENT_ID={DEFAULT_CLIENT_ID} "
        f"SERVICENOW_CLIENT_SECRET={DEFAULT_CLIENT_SECRET}",
    ]


def servicenow_sandbox(
    port: Annotated[int, typer.Option(help="The loopback port to listen on.")] = DEFAULT_PORT,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
) -> None:
    """Run a ServiceNow stand-in (Table API, OAuth) with the demo's users and incidents."""
    fake = FakeServiceNow()
    users = seed_demo(fake)
    url = f"http://{host}:{port}"
    console.print(f"ServiceNow stand-in at {url} ({len(users)} demo users); Ctrl-C stops it.")
    console.print("Point textdesk at it (in .env, or exported before `make run`):")
    for line in settings_for(url):
        typer.echo(f"  {line}")  # plain, unwrapped: to be copied as it is
    uvicorn.run(fake.app, host=host, port=port, log_level="warning")
