"""`textdesk serve --workers N` comes up, and stays up, on a machine too busy to start fast."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import TEXTDESK
from tests.integration.conftest import ACCOUNT_SID, AUTH_TOKEN, SECRET_KEY
from textdesk.adapters.local_server import bind_free_port

# Imported by every Python process started with this folder on PYTHONPATH; it holds
# back only uvicorn's worker processes (started by multiprocessing's spawn), as a
# busy machine does: under eight concurrent test runs a worker took over 30 s to start.
SLOW_START = """\
import sys, time
if "--multiprocessing-fork" in sys.argv:
    time.sleep(8)
"""


@pytest.mark.postgres
def test_workers_slower_to_start_than_five_seconds_are_not_killed_in_a_loop(
    tmp_path: Path, postgres_database: str
) -> None:
    """Workers that need 8 s to start still serve (uvicorn's 5 s check killed them for ever)."""
    (tmp_path / "sitecustomize.py").write_text(SLOW_START)
    sock = bind_free_port()
    port = sock.getsockname()[1]
    sock.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
    env.update(
        {
            "PYTHONPATH": str(tmp_path),
            "TEXTDESK_DATABASE_URL": postgres_database,
            "TEXTDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TEXTDESK_SECRET_KEY": SECRET_KEY,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_URL": "http://127.0.0.1:9",
            "TEXTDESK_LOG_LEVEL": "INFO",
        }
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [TEXTDESK, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        healthy = False
        while time.monotonic() < deadline and not healthy:
            assert proc.poll() is None, log.read_text()[-2000:]
            try:
                healthy = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success
            except httpx.HTTPError:
                time.sleep(0.5)
        assert healthy, f"no worker ever served:\n{log.read_text()[-2000:]}"
        assert "died" not in log.read_text(), log.read_text()[-2000:]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
