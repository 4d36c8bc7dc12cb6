"""A local install's state in its data folder: a generated secret key, demo mode."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from textdesk.adapters.files.install_state import mark_demo
from textdesk.config import Settings
from textdesk.web.auth import session_options

PRINT_KEY = "from textdesk.config import Settings; print(Settings().secret_key)"


def _local(folder: Path, **extra: object) -> Settings:
    return Settings(TEXTDESK_DATABASE_URL=f"sqlite+aiosqlite:///{folder}/textdesk.db", **extra)


def _fresh_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
    env["TEXTDESK_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder}/textdesk.db"
    return env


def test_a_local_install_generates_its_key_once_and_keeps_it(tmp_path: Path) -> None:
    """No key set: one random key is written (0600) beside the database and read back after."""
    folder = tmp_path / "var"
    first = _local(folder)
    key_file = folder / "secret_key"
    assert key_file.read_text().strip() == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    written = key_file.stat()
    second = _local(folder)
    assert second.secret_key == first.secret_key
    assert key_file.stat().st_ino == written.st_ino
    assert key_file.stat().st_mtime_ns == written.st_mtime_ns
    assert [p.name for p in folder.iterdir()] == ["secret_key"]  # no temporary left behind


def test_two_installs_get_different_keys_and_sandbox_tokens(tmp_path: Path) -> None:
    """Nothing is shared between installs: not the key, not the sandbox's auth token."""
    one = _local(tmp_path / "one", TEXTDESK_DEMO=True)
    other = _local(tmp_path / "other", TEXTDESK_DEMO=True)
    assert one.secret_key != other.secret_key
    assert one.auth_token != other.auth_token
    assert session_options(one)["secret_key"] != session_options(other)["secret_key"]


def test_processes_started_together_share_one_generated_key(tmp_path: Path) -> None:
    """Six processes starting at once in a new folder all sign with the same key."""
    folder = tmp_path / "var"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", PRINT_KEY],
            env=_fresh_env(folder),
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    keys = {child.communicate(timeout=60)[0].strip() for child in children}
    assert all(child.returncode == 0 for child in children)
    assert keys == {(folder / "secret_key").read_text().strip()}
    # A later process (a CLI command typed afterwards) reads the same key.
    later = subprocess.run(
        [sys.executable, "-c", PRINT_KEY],
        env=_fresh_env(folder),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert later.stdout.strip() in keys


def test_a_weakened_key_file_is_refused(tmp_path: Path) -> None:
    """A key file edited down to something guessable is refused, naming the file."""
    folder = tmp_path / "var"
    folder.mkdir()
    (folder / "secret_key").write_text("changeme\n")
    with pytest.raises(ValidationError, match="secret_key is too weak"):
        _local(folder)


def test_a_configured_key_wins_and_nothing_is_written(tmp_path: Path) -> None:
    """With TEXTDESK_SECRET_KEY set, the data folder is left alone."""
    key = "configured-Hq2wE4rT6yU8iO0pA1sD3fG5hJ7kL9"
    settings = _local(tmp_path / "var", TEXTDESK_SECRET_KEY=key)
    assert settings.secret_key == key
    assert not (tmp_path / "var").exists()


def test_demo_mode_is_a_property_of_the_install(tmp_path: Path) -> None:
    """`demo seed`'s mark makes the install a demo; TEXTDESK_DEMO=0 or 1 still decides."""
    folder = tmp_path / "var"
    assert not _local(folder).demo
    assert _local(folder).transport_problem() is not None
    mark_demo(folder)
    assert _local(folder).demo
    assert _local(folder).transport_problem() is None
    assert not _local(folder, TEXTDESK_DEMO=False).demo
    assert _local(tmp_path / "other", TEXTDESK_DEMO=True).demo
    with_twilio = _local(folder, TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="t")
    assert with_twilio.transport_problem() is None
