"""`textdesk serve` and `worker` on a topic folder that cannot be used."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import TEXTDESK

BROKEN = """\
title: Broken
keywords: [stop]
nodes:
  - type: dynamic_choice
    prompt: Which?
    var: t
    source: my_open_tickets
"""


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]])
def test_a_broken_topic_folder_stops_the_start_with_its_errors(
    tmp_path: Path, command: list[str]
) -> None:
    """The operator sees file:line: field: message for each error, not a traceback."""
    topics = tmp_path / "topics"
    topics.mkdir()
    (topics / "broken.yaml").write_text(BROKEN)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
    env |= {
        "TEXTDESK_TOPICS_DIR": str(topics),
        "TEXTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'textdesk.db'}",
        "TEXTDESK_SECRET_KEY": "broken-topics-" + "k7Qm2xZp9Lr4Tn8Wv3Ys6Ud1" * 2,
        "TEXTDESK_DEMO": "1",
    }
    done = subprocess.run(
        [TEXTDESK, *command], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert "broken.yaml:2: keywords[0]: 'stop' is " in out
    assert "broken.yaml:7: nodes[0].source: no record source 'my_open_tickets'" in out
    assert "Traceback" not in out
