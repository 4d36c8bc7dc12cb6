"""The README's commands, typed in a new shell in the folder where `make run` ran."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import TEXTDESK
from textdesk.adapters.local_server import bind_free_port


def _free_port() -> int:
    with bind_free_port() as sock:
        port: int = sock.getsockname()[1]
    return port


def _shell(**env: str) -> dict[str, str]:
    """A new shell's environment: no TEXTDESK_* or TWILIO_* exported, plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
    return {**clean, **env}


def _textdesk(
    folder: Path, *args: str, timeout: float = 60, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """A command run as an operator would, in ``folder`` from a new shell."""
    return subprocess.run(
        [TEXTDESK, *args],
        cwd=folder,
        env=_shell(**env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def served(install: Path) -> Iterator[str]:
    """`textdesk serve`, typed in a new shell in the install's folder; its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = install / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [TEXTDESK, "serve", "--port", str(port)],
            cwd=install,
            env=_shell(TEXTDESK_LOG_LEVEL="WARNING"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where `make run`'s first two steps (`migrate`, `demo seed`) ran."""
    folder = tmp_path_factory.mktemp("install")
    for step in (("migrate",), ("demo", "seed")):
        done = _textdesk(folder, *step)
        assert done.returncode == 0, done.stdout + done.stderr
    assert "demo mode recorded" in done.stdout
    return folder


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


def test_serve_in_a_new_shell_is_still_the_demo(install: Path, served: str) -> None:
    """After `demo seed`, a plain `serve` has the simulator, and `chat` texts the bot."""
    assert (install / "var" / "demo").is_file()
    assert httpx.get(f"{served}/simulator").status_code == 200
    assert httpx.get(f"{served}/metrics").status_code == 200  # a laptop's demo, no token
    talked = _textdesk(install, "chat", "--from", "+15551230001", "--url", served, stdin="hi\n")
    assert talked.returncode == 0, talked.stdout + talked.stderr
    assert "bot ›" in talked.stdout


def test_outside_demo_mode_serve_and_worker_refuse_without_twilio(install: Path) -> None:
    """TEXTDESK_DEMO=0 with no credentials: one clear paragraph, exit 2, no sandbox served."""
    port = str(_free_port())
    for command in (("serve", "--port", port), ("worker",)):
        refused = _textdesk(install, *command, timeout=30, TEXTDESK_DEMO="0")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "No Twilio credentials" in refused.stdout
        assert "TWILIO_ACCOUNT_SID" in refused.stdout
        assert "textdesk demo seed" in refused.stdout
        assert "Traceback" not in refused.stdout + refused.stderr


# Every one-shot command of README's table, as typed there (long-running ones,
# `serve`, `worker`, `chat` and `bench`, have tests of their own above and in the suite).
_ONE_SHOT: list[tuple[str, ...]] = [
    ("migrate",),
    ("numbers", "add", "+15550100199", "--purpose", "notify"),
    ("numbers", "list"),
    ("numbers", "remove", "+15550100199"),
    ("users", "add", "Robin Reader", "--phone", "+1 555 123 0099"),
    ("users", "import", "people.csv"),
    ("users", "list"),
    ("users", "remove", "+15551230099", "--yes"),
    ("demo", "seed"),
    ("records", "export", "--format", "json"),
    ("topics", "validate", "{topics}"),
    ("topics", "test", "{topics}"),
    ("topics", "schema"),
    ("agents", "add", "Kim Agent", "--email", "kim@example.com", "--password", "a-long-password"),
    ("queues", "add", "Evenings", "--hours", "mon-fri 17:00-22:00"),
    ("queues", "list"),
    ("api-tokens", "create", "crm"),
    ("api-tokens", "list"),
    ("api-tokens", "revoke", "1"),
]
_ELSEWHERE = {("serve",), ("worker",), ("chat",), ("bench",), ("servicenow-sandbox",)}


def test_every_command_in_the_readme_runs_in_a_new_shell(install: Path) -> None:
    """Each `textdesk …` of README's command table exits 0 with nothing exported."""
    from textdesk.config import DEMO_TOPICS_DIR

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme[readme.index("## Commands") :]
    named = {tuple(m.split()) for m in re.findall(r"`textdesk ([a-z-]+(?: [a-z][a-z-]*)?)", table)}
    runs = {c[:2] for c in _ONE_SHOT} | {c[:1] for c in _ONE_SHOT} | _ELSEWHERE
    assert named - runs == set(), "README names a command this test does not run"
    (install / "people.csv").write_text(
        "name,email,phone\nPat Example,pat@example.com,5551230098\n"
    )
    for command in _ONE_SHOT:
        args = [a.replace("{topics}", str(DEMO_TOPICS_DIR)) for a in command]
        done = _textdesk(install, *args, timeout=120)
        assert done.returncode == 0, f"{' '.join(args)}: {done.stdout}{done.stderr}"
