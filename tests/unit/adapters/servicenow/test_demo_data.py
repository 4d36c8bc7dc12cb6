"""The stand-in's demo rows are the built-in demo's people and incidents."""

from __future__ import annotations

import csv

from textdesk.adapters.servicenow.demo_data import DEMO_INCIDENTS, DEMO_USERS, seed_demo
from textdesk.adapters.servicenow.sandbox import FakeServiceNow
from textdesk.admin.demo import DEMO_INCIDENTS as BUILTIN_INCIDENTS
from textdesk.demo import DEMO_DIR
from textdesk.domain.phones import to_e164


def test_the_active_users_are_the_demos_people_with_their_numbers() -> None:
    with (DEMO_DIR / "users.csv").open(encoding="utf-8") as handle:
        builtin = {(row["name"], row["email"], row["phone"]) for row in csv.DictReader(handle)}
    ours = {(u.name, u.email, to_e164(u.mobile_phone)) for u in DEMO_USERS if u.active}
    assert ours == builtin


def test_numbers_are_typed_in_several_formats_and_one_user_is_inactive() -> None:
    typed = [u.mobile_phone for u in DEMO_USERS]
    assert len(set(typed)) == len(typed)
    assert any(p.startswith("(") for p in typed)
    assert any(p.startswith("+1 ") for p in typed)
    assert any(p.isdigit() for p in typed)
    assert [u.user_name for u in DEMO_USERS if not u.active] == ["dan.former"]


def test_the_demos_incidents_are_all_there() -> None:
    phones = {to_e164(u.mobile_phone): u.user_name for u in DEMO_USERS}
    labels = {"1": "New", "2": "In Progress"}
    ours = {
        (i.caller, i.short_description, labels.get(i.state), int(i.urgency)) for i in DEMO_INCIDENTS
    }
    for phone, title, state, urgency in BUILTIN_INCIDENTS:
        assert (phones[phone], title, state, urgency) in ours


def test_seeding_twice_adds_nothing_the_second_time() -> None:
    fake = FakeServiceNow()
    first = seed_demo(fake)
    users, incidents = len(fake.find("sys_user")), len(fake.find("incident"))
    assert seed_demo(fake) == first
    assert (len(fake.find("sys_user")), len(fake.find("incident"))) == (users, incidents)
    assert incidents == len(DEMO_INCIDENTS)
