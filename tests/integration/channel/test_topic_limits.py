"""A topic template that passes its render budget, on a running server."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import TEXTER, Desk
from textdesk.channel.answering import Converser
from textdesk.config import DEMO_TOPICS_DIR
from textdesk.domain.topics.settings import Texts

LOOPING_TOPIC = """\
title: Loop forever
keywords: [loop]
nodes:
  - type: text
    var: answer
    prompt: >-
      {% for a in range(400) %}{% for b in range(400) %}{% for c in range(400) %}xy
      {% endfor %}{% endfor %}{% endfor %}
"""


@pytest.fixture
def converser() -> Converser | None:
    """None: the app runs its real virtual agent."""
    return None


@pytest.fixture
def desk_extra_settings(tmp_path: Path) -> dict[str, Any]:
    """The demo topics plus one whose question loops 64 million times."""
    folder = tmp_path / "topics"
    shutil.copytree(DEMO_TOPICS_DIR, folder)
    (folder / "loop_forever.yaml").write_text(LOOPING_TOPIC)
    return {"TEXTDESK_TOPICS_DIR": str(folder)}


async def test_a_looping_prompt_gets_the_fallback_text_and_an_error_in_the_log(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """The texter is told to reply AGENT or MENU at once; the operator's log says why."""
    caplog.set_level(logging.ERROR, logger="textdesk.channel.virtual_agent")
    await desk.text("hi")
    await desk.fake.wait_for_messages(1, to=TEXTER)
    await desk.text("loop")
    [_, answer] = await desk.fake.wait_for_messages(2, to=TEXTER)
    assert answer.body.endswith(Texts().error)
    [logged] = [r for r in caplog.records if "loop_forever" in r.getMessage()]
    assert "was stopped" in logged.getMessage()
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{desk.url}/healthz")).status_code == 200
    await desk.text("menu")
    [*_, menu] = await desk.fake.wait_for_messages(3, to=TEXTER)
    assert "Reply with a number" in menu.body
