"""Notification templates: the packaged ones, operator overrides, rendering for SMS."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from textdesk.adapters.files.notification_files import PACKAGED_DIR, NotificationFiles
from textdesk.adapters.signed_urls import RecordLinkSigner
from textdesk.domain.records import Record
from textdesk.domain.sms import sms_cost
from textdesk.notifications.sending import context, render_body
from textdesk.records.incidents import RecordViews

LINKS = RecordLinkSigner(secret_key="k" * 32, public_url="https://desk.example.com")
VIEWS = RecordViews(LINKS)
WHEN = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def record(**changes: Any) -> Record:
    values: dict[str, Any] = {
        "id": 1,
        "number": "INC0010001",
        "short_description": "Printer on floor 2 jams",
        "description": "",
        "category": "printer",
        "state": "In Progress",
        "urgency": 2,
        "priority": 3,
        "caller_id": 7,
        "caller_name": "Alice Example",
        "caller_phone": "+15551230001",
        "assigned_to": "Dana",
        "opened_at": WHEN,
        "updated_at": WHEN,
    }
    values.update(changes)
    return Record(**values)


def packaged(name: str) -> str:
    source = NotificationFiles(PACKAGED_DIR).template(name)
    assert source is not None
    return source


def test_state_changed_names_the_record_its_new_state_and_link() -> None:
    """The packaged state template reads like a text from the desk, with the record link."""
    ctx = context(record=record(), views=VIEWS, event={"from": "New", "to": "In Progress"})
    body = render_body(packaged("state_changed"), ctx)
    assert body.startswith("INC0010001 is now In Progress: Printer on floor 2 jams\n")
    assert body.endswith(LINKS.url_for("INC0010001"))
    assert "{#" not in body
    assert sms_cost(body).segments <= 2


def test_comment_and_assignment_templates_use_the_event_params() -> None:
    """Comment author/body and the new assignee come from the event."""
    ctx = context(record=record(), views=VIEWS, event={"author": "Dana", "body": "On our way."})
    assert 'new comment from Dana: "On our way."' in render_body(packaged("commented"), ctx)
    assigned = context(record=record(), views=VIEWS, event={"to": "Sam"})
    assert "INC0010001 is now with Sam" in render_body(packaged("assigned"), assigned)
    unassigned = context(record=record(), views=VIEWS, event={"to": None})
    assert "back in the queue" in render_body(packaged("assigned"), unassigned)


def test_long_comments_are_cut_to_keep_the_text_short() -> None:
    """A 4,000-character comment does not become a 30-segment text."""
    ctx = context(record=record(), views=VIEWS, event={"author": "Dana", "body": "word " * 800})
    assert sms_cost(render_body(packaged("commented"), ctx)).segments <= 3


def test_created_is_not_notified_by_default() -> None:
    """The texter who opened a record over SMS already got its card."""
    assert NotificationFiles(PACKAGED_DIR).template("created") is None


def test_operator_folder_overrides_and_adds_templates(tmp_path: Path) -> None:
    """A file in the operator folder wins; missing ones come from the package."""
    (tmp_path / "state_changed.txt").write_text("Update: ${number} -> ${state}\n")
    (tmp_path / "created.txt").write_text("{{ card }}")
    files = NotificationFiles(tmp_path)
    ctx = context(record=record(), views=VIEWS)
    assert render_body(files.template("state_changed") or "", ctx) == (
        "Update: INC0010001 -> In Progress"
    )
    card = render_body(files.template("created") or "", ctx)
    assert card.splitlines()[:3] == [
        "Number: INC0010001",
        "Short description: Printer on floor 2 jams",
        "State: In Progress",
    ]
    assert files.template("commented") == packaged("commented")


def test_edits_apply_without_a_restart(tmp_path: Path) -> None:
    """A template changed on disk is read again."""
    path = tmp_path / "outage.txt"
    path.write_text("first")
    files = NotificationFiles(tmp_path)
    assert files.template("outage") == "first"
    path.write_text("second version")
    os.utime(path, (1, 1))  # a different mtime, even within the clock's resolution
    assert files.template("outage") == "second version"


def test_template_names_cannot_leave_the_folder(tmp_path: Path) -> None:
    """Names are plain words: no paths, no dots."""
    files = NotificationFiles(tmp_path)
    for name in ("../secret", "a/b", ".hidden", "", "UPPER"):
        assert files.template(name) is None


def test_params_and_user_are_available_without_a_record() -> None:
    """An API notification to an account can use its params and the user's name."""
    ctx = context(record=None, views=VIEWS, params={"when": "Saturday 9-11"})
    ctx["user"] = {"id": 7, "name": "Alice"}
    body = render_body("Hi {{ user.name }}, maintenance {{ params.when }}.${number}", ctx)
    assert body == "Hi Alice, maintenance Saturday 9-11."


def test_templates_run_in_the_sandbox() -> None:
    """A template file cannot reach Python internals through the record it is given."""
    ctx = context(record=record(), views=VIEWS)
    body = render_body(
        "{{ record.__class__.__mro__ }}{{ card.__init__.__globals__ }}${number}", ctx
    )
    assert body == "INC0010001"


def test_a_template_shows_dates_in_the_desks_timezone() -> None:
    """``${opened_at}`` reads as a person reads it, in the desk's zone; ``*_iso`` stays exact."""
    new_york = RecordViews(LINKS, ZoneInfo("America/New_York"))
    opened = datetime(2026, 12, 1, 18, 33, 29, 950259, tzinfo=UTC)
    ctx = context(record=record(opened_at=opened), views=new_york)
    body = render_body("${number} opened ${opened_at} ({{ record.opened_at_iso }})", ctx)
    assert body == ("INC0010001 opened 1 Dec 2026, 13:33 EST (2026-12-01T18:33:29.950259+00:00)")
