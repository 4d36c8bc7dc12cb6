"""An open Workspace event stream does not hold up stopping `textdesk serve`."""

from __future__ import annotations

import time

import httpx

from tests.e2e.conftest import ServerProcess
from tests.integration.workspace_helpers import PASSWORD, csrf_in


def test_stopping_the_server_ends_open_event_streams(server: ServerProcess) -> None:
    """SIGTERM with a browser tab listening: the stream ends and the process exits at once."""
    added = server.cli(
        "agents", "add", "Dana Agent", "--email", "dana@example.com", "--password", PASSWORD
    )
    assert added.returncode == 0, added.stdout + added.stderr
    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as browser:
        form = browser.get("/workspace/login")
        signed_in = browser.post(
            "/workspace/login",
            data={
                "email": "dana@example.com",
                "password": PASSWORD,
                "csrf_token": csrf_in(form.text),
            },
        )
        assert signed_in.status_code == 303
        with browser.stream("GET", "/workspace/events") as stream:
            lines = stream.iter_lines()
            assert next(lines) == "retry: 2000"
            assert server.proc is not None
            started = time.monotonic()
            server.proc.terminate()
            rest = list(lines)  # returns when the server closes the stream
            server.proc.wait(timeout=10)
            elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"shutdown took {elapsed:.1f}s with a stream open"
    # uvicorn re-raises the SIGTERM once shut down, so the exit status says "terminated".
    assert ": keep-alive" not in rest
