"""The README's commands, typed in a new shell in the folder where `make run` ran."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import TEXTDESK
from textdesk.testing import bind_free_port


def _free_port() -> int:
    with bind_free_port() as sock:
        port: int = sock.getsockname()[1]
    return port


def _textdesk(
    folder: Path, *args: str, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """A command run as an operator would: in ``folder``, no TEXTDESK_* or TWILIO_* set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
    return subprocess.run(
        [TEXTDESK, *args],
        cwd=folder,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def install(tmp_path: Path) -> Path:
    """A folder where `make run`'s first two steps (`migrate`, `demo seed`) ran."""
    for step in (("migrate",), ("demo", "seed")):
        done = _textdesk(tmp_path, *step)
        assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path


def test_readme_commands_work_in_a_new_shell(install: Path) -> None:
    """`numbers list`, `api-tokens create` and `queues list` need nothing exported."""
    listed = _textdesk(install, "numbers", "list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "+15550100100" in listed.stdout
    created = _textdesk(install, "api-tokens", "create", "crm")
    assert created.returncode == 0, created.stdout + created.stderr
    assert "API token for crm" in created.stdout
    queues = _textdesk(install, "queues", "list")
    assert queues.returncode == 0, queues.stdout + queues.stderr
    assert "Service desk" in queues.stdout
    key_file = install / "var" / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("key", ["", "changeme", "textdesk-dev-secret-change-me "])
def test_serve_refuses_a_weak_key_before_listening(tmp_path: Path, key: str) -> None:
    """An empty or guessable key stops `serve` at once: no cookie it signs is ever checked."""
    port = str(_free_port())
    refused = _textdesk(
        tmp_path, "serve", "--port", port, timeout=30, TEXTDESK_SECRET_KEY=key, TEXTDESK_DEMO="0"
    )
    assert refused.returncode == 2
    assert "TEXTDESK_SECRET_KEY is too weak" in refused.stdout
    assert "secrets.token_urlsafe(48)" in refused.stdout
    assert "Traceback" not in refused.stdout + refused.stderr
