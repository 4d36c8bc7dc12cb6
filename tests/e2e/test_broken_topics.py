"""A topic folder with a file that cannot be used, through `textdesk topics import`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

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
GOOD = """\
# Kept byte for byte: this comment comes back out of the export.
title: Opening hours
keywords: [hours]
nodes:
  - type: message
    text: We're open 8-18, Monday to Friday.
"""


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TEXTDESK, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_broken_file_is_refused_with_its_errors_and_the_rest_round_trips(
    tmp_path: Path,
) -> None:
    """The operator sees file:line: field: message for each error, not a traceback;
    the good topic is published and exported as the very bytes imported."""
    topics = tmp_path / "topics"
    topics.mkdir()
    (topics / "broken.yaml").write_text(BROKEN)
    (topics / "hours.yaml").write_text(GOOD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
    env |= {
        "TEXTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'textdesk.db'}",
        "TEXTDESK_SECRET_KEY": "broken-topics-" + "k7Qm2xZp9Lr4Tn8Wv3Ys6Ud1" * 2,
    }
    assert _run(env, "migrate").returncode == 0
    done = _run(env, "topics", "import", str(topics))
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "broken.yaml:2: keywords[0]: 'stop' is " in out
    assert "broken.yaml:7: nodes[0].source: no record source 'my_open_tickets'" in out
    assert "published: hours" in out
    assert "kept as drafts: broken" in out
    assert "Traceback" not in out
    exported = tmp_path / "exported"
    done = _run(env, "topics", "export", str(exported))
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in exported.iterdir()) == ["hours.yaml"]
    assert (exported / "hours.yaml").read_bytes() == GOOD.encode()
    # Imported again, unchanged: nothing new is published, and the export is the same.
    again = _run(env, "topics", "import", str(exported))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "published: none; unchanged: 1" in again.stdout
    second = tmp_path / "second"
    assert _run(env, "topics", "export", str(second)).returncode == 0
    assert (second / "hours.yaml").read_bytes() == GOOD.encode()
