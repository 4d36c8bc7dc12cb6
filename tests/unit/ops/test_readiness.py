"""Readiness: ready when the database answers, and what it said when it does not."""

from __future__ import annotations

from textdesk.ops.readiness import Readiness
from textdesk.testing.ops import FailingProbe


async def test_a_process_whose_database_answers_is_ready() -> None:
    assert await Readiness(FailingProbe()).problem() is None


async def test_a_database_that_does_not_answer_is_the_problem_in_its_own_words() -> None:
    probe = FailingProbe(ConnectionRefusedError("connection refused on port 5432"))
    assert await Readiness(probe).problem() == "connection refused on port 5432"
