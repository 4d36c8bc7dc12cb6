"""`textdesk agents list`, `agents remove` and `queues remove`, typed as an operator would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.cli_helpers import textdesk_in


def test_removing_an_agent_says_what_goes_and_asks_first(tmp_path: Path) -> None:
    """The list shows each agent's queues; removal says what is kept, needs a yes,
    and `--yes` skips the question."""
    for step in (("migrate",), ("demo", "seed")):
        assert textdesk_in(tmp_path, *step).returncode == 0
    listed = textdesk_in(tmp_path, "agents", "list").stdout
    assert "dana@example.com" in listed
    assert "Service desk" in listed
    assert "offline" in listed

    declined = textdesk_in(tmp_path, "agents", "remove", "dana@example.com", stdin="n\n")
    assert declined.returncode == 1
    assert "signs them out everywhere" in declined.stdout
    assert "Kept, under their name" in declined.stdout
    assert "nothing removed" in declined.stdout
    assert "dana@example.com" in textdesk_in(tmp_path, "agents", "list").stdout

    no_terminal = textdesk_in(tmp_path, "agents", "remove", "dana@example.com")
    assert no_terminal.returncode != 0
    assert "dana@example.com" in textdesk_in(tmp_path, "agents", "list").stdout

    removed = textdesk_in(tmp_path, "agents", "remove", "dana@example.com", "--yes")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert "removed" in removed.stdout
    listed = textdesk_in(tmp_path, "agents", "list").stdout
    assert "dana@example.com" not in listed
    assert "sam@example.com" in listed
    missing = textdesk_in(tmp_path, "agents", "remove", "dana@example.com", "--yes")
    assert missing.returncode == 1
    assert "no agent signs in as dana@example.com" in missing.stdout


def test_removing_a_queue_refuses_the_default_and_asks_first(tmp_path: Path) -> None:
    """The default queue is refused with what to do; another is removed after a yes."""
    for step in (("migrate",), ("demo", "seed"), ("queues", "add", "Billing")):
        assert textdesk_in(tmp_path, *step).returncode == 0
    default = textdesk_in(tmp_path, "queues", "remove", "Service desk", "--yes")
    assert default.returncode == 1
    assert "is the default queue" in default.stdout
    assert "Service desk" in textdesk_in(tmp_path, "queues", "list").stdout

    declined = textdesk_in(tmp_path, "queues", "remove", "Billing", stdin="n\n")
    assert declined.returncode == 1
    assert "ended chat(s) stay in it" in declined.stdout
    assert "Billing" in textdesk_in(tmp_path, "queues", "list").stdout

    removed = textdesk_in(tmp_path, "queues", "remove", "Billing", stdin="y\n")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert "Billing" not in textdesk_in(tmp_path, "queues", "list").stdout
    assert textdesk_in(tmp_path, "queues", "add", "Billing").returncode == 0


def test_passwords_are_hashed_with_argon2id_at_full_cost(tmp_path: Path) -> None:
    """The tests' own servers hash cheaply (tests/conftest.py); `textdesk` never does:
    argon2id with 64 MiB, three passes and four lanes (RFC 9106's second choice)."""
    for step in (("migrate",), ("demo", "seed")):
        assert textdesk_in(tmp_path, *step).returncode == 0
    with sqlite3.connect(tmp_path / "var" / "textdesk.db") as db:
        hashes = [row[0] for row in db.execute("SELECT password_hash FROM agents")]
    assert hashes
    assert all(h.startswith("$argon2id$v=19$m=65536,t=3,p=4$") for h in hashes), hashes
