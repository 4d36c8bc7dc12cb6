"""The ServiceNow stand-in the tests of this folder talk to, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from textdesk.adapters.servicenow.demo_data import seed_demo
from textdesk.adapters.servicenow.sandbox import FakeServiceNow


@pytest.fixture(scope="module")
def served() -> Iterator[FakeServiceNow]:
    """One stand-in on a loopback port for the whole module (reset per test)."""
    with FakeServiceNow().serve() as fake:
        yield fake


@pytest.fixture
def snow(served: FakeServiceNow) -> FakeServiceNow:
    """The served stand-in, reset and seeded with the demo's people and incidents."""
    served.reset()
    seed_demo(served)
    return served
