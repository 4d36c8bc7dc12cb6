"""The built-in demo's people and incidents, as rows of a ServiceNow instance.

The same people as ``demo/users.csv`` and the same incidents as
``admin.demo.DEMO_INCIDENTS``, with each ``mobile_phone`` typed the way people
type numbers into ServiceNow, a former employee whose profile is inactive, and a
resolved incident, so that texter matching and "my open incidents" have
something to get wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DemoUser:
    user_name: str
    first_name: str
    last_name: str
    email: str
    mobile_phone: str
    active: bool = True

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class DemoIncident:
    caller: str  # user_name
    short_description: str
    state: str
    urgency: str
    category: str = "inquiry"


DEMO_USERS = (
    DemoUser("alice.example", "Alice", "Example", "alice@example.com", "(555) 123-0001"),
    DemoUser("bob.example", "Bob", "Example", "bob@example.com", "+1 555 123 0002"),
    DemoUser("carol.example", "Carol", "Example", "carol@example.com", "5551230003"),
    DemoUser("dan.former", "Dan", "Former", "dan@example.com", "555-123-0004", active=False),
)
DEMO_INCIDENTS = (
    DemoIncident("alice.example", "VPN disconnects every hour", "2", "2", "network"),
    DemoIncident("alice.example", "New monitor for desk 4B", "1", "3", "hardware"),
    DemoIncident("bob.example", "Cannot open shared mailbox", "1", "2", "software"),
    # Not in the built-in demo: a closed case that "my open incidents" must leave out.
    DemoIncident("alice.example", "Printer on floor 2 jams", "6", "3", "hardware"),
)


class Seedable(Protocol):
    """What seeding needs of the stand-in (``FakeServiceNow`` has it)."""

    def insert(self, table: str, values: dict[str, str], *, user_name: str = ...) -> dict[str, str]:
        """Create a row as if through the Table API."""
        ...

    def find(self, table: str, query: str = ...) -> list[dict[str, str]]:
        """Rows matching an encoded query."""
        ...


def seed_demo(fake: Seedable) -> dict[str, str]:
    """Add the demo's users and incidents (once); return user_name → sys_id."""
    ids: dict[str, str] = {}
    for user in DEMO_USERS:
        existing = fake.find("sys_user", f"user_name={user.user_name}")
        if existing:
            ids[user.user_name] = existing[0]["sys_id"]
            continue
        row = fake.insert(
            "sys_user",
            {
                "user_name": user.user_name,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "name": user.name,
                "email": user.email,
                "mobile_phone": user.mobile_phone,
                "active": "true" if user.active else "false",
            },
        )
        ids[user.user_name] = row["sys_id"]
    for incident in DEMO_INCIDENTS:
        caller = ids[incident.caller]
        if fake.find(
            "incident", f"caller_id={caller}^short_description={incident.short_description}"
        ):
            continue
        fake.insert(
            "incident",
            {
                "short_description": incident.short_description,
                "caller_id": caller,
                "state": incident.state,
                "urgency": incident.urgency,
                "category": incident.category,
                "contact_type": "self-service",
            },
        )
    return ids
