"""`textdesk users list` and `users remove`, typed as an operator would."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.cli_helpers import textdesk_in


def test_removing_an_account_says_what_goes_and_asks_first(tmp_path: Path) -> None:
    """Removal lists what is deleted and kept, needs a yes, and `--yes` skips the question."""
    for step in (("migrate",), ("demo", "seed")):
        assert textdesk_in(tmp_path, *step).returncode == 0
    assert "Alice Example" in textdesk_in(tmp_path, "users", "list").stdout

    declined = textdesk_in(tmp_path, "users", "remove", "+1 555 123 0001", stdin="n\n")
    assert declined.returncode == 1
    assert "notification subscription" in declined.stdout
    assert "Kept, no longer linked to an account" in declined.stdout
    assert "Alice Example" in textdesk_in(tmp_path, "users", "list").stdout

    no_terminal = textdesk_in(tmp_path, "users", "remove", "+15551230001")
    assert no_terminal.returncode != 0
    assert "Alice Example" in textdesk_in(tmp_path, "users", "list").stdout

    removed = textdesk_in(tmp_path, "users", "remove", "+15551230001", "--yes")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert "removed" in removed.stdout
    assert "Alice Example" not in textdesk_in(tmp_path, "users", "list").stdout
    missing = textdesk_in(tmp_path, "users", "remove", "+15551230001", "--yes")
    assert missing.returncode == 1
    assert "no account has the number +15551230001" in missing.stdout


def test_a_command_before_migrate_says_to_migrate(tmp_path: Path) -> None:
    """`numbers list` in a folder never migrated: one clear line, exit 2, no traceback."""
    done = textdesk_in(tmp_path, "numbers", "list")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "run `textdesk migrate` first" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
