"""The real `textdesk serve` process, started and killed like an operator would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from benchmarks.children import log_tail, stop

from tests.integration.conftest import ACCOUNT_SID, AUTH_TOKEN, SECRET_KEY
from textdesk.adapters.local_server import bind_free_port
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.config import DEMO_TOPICS_DIR

TEXTDESK = str(Path(sys.executable).with_name("textdesk"))


class ServerProcess:
    """One `textdesk serve` child process on a fixed loopback port."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env = env
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TEXTDESK, *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )

    def start(self, *extra: str) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [TEXTDESK, "serve", "--port", str(self.port), *extra],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise AssertionError(f"server exited: {log_tail(self.log, 2000)}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"server did not become ready: {log_tail(self.log, 2000)}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, like a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; always reaped, never left running."""
        stop(self.proc, grace=10)
        self.proc = None


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).serve() as fake:
        yield fake


@pytest.fixture
def server(tmp_path: Path, fake_twilio: FakeTwilio) -> Iterator[ServerProcess]:
    sock = bind_free_port()
    port = sock.getsockname()[1]
    sock.close()  # the child binds it; a race here is harmless on a quiet loopback
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
    env.update(
        {
            "TEXTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'textdesk.db'}",
            "TEXTDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TEXTDESK_SECRET_KEY": SECRET_KEY,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_URL": fake_twilio.base_url,
            "TEXTDESK_MEDIA_ORIGINS": fake_twilio.base_url,
            "TEXTDESK_SEND_RATE": "100",
            # A short send lease, so a text claimed by a killed server is retried soon.
            "TEXTDESK_SEND_TIMEOUT": "2",
            "TEXTDESK_LOG_LEVEL": "WARNING",
            # The packaged demo topics, imported at start (unset imports nothing).
            "TEXTDESK_TOPICS_DIR": str(DEMO_TOPICS_DIR),
        }
    )
    proc = ServerProcess(env, port, tmp_path / "server.log")
    assert proc.cli("migrate").returncode == 0
    added = proc.cli("numbers", "add", "+15550100100", "--purpose", "conversational")
    assert added.returncode == 0, added.stdout + added.stderr
    yield proc
    proc.stop()
