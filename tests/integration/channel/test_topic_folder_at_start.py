"""What a desk's log says of TEXTDESK_TOPICS_DIR's files it could not use at start."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Desk
from textdesk.config import DEMO_TOPICS_DIR

BROKEN = "title: Broken\nkeywords: [broken]\nnodes:\n  - type: nosuchtype\n"
ROUTER = (
    "title: Router\nkeywords: [router]\nnodes:\n"
    "  - type: image\n    media: topics/router/back.png\n"
)


@pytest.fixture
def desk_extra_settings(tmp_path: Path) -> dict[str, Any]:
    """The demo topics, one topic that does not read, and a PDF named like a PNG."""
    folder = tmp_path / "topics"
    shutil.copytree(DEMO_TOPICS_DIR, folder)
    (folder / "broken.yaml").write_text(BROKEN)
    (folder / "router.yaml").write_text(ROUTER)
    (folder / "media" / "router").mkdir(parents=True)
    (folder / "media" / "router" / "back.png").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    return {"TEXTDESK_TOPICS_DIR": str(folder)}


async def test_a_refused_image_is_logged_as_not_stored_and_a_broken_topic_as_a_draft(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator reads what became of each file: an image refused is not stored
    (never "kept as a draft"), a topic with errors is kept as an invalid draft."""
    logged = [
        r.getMessage()
        for r in caplog.get_records("setup")
        if r.levelno >= logging.ERROR and "topic folder" in r.getMessage()
    ]
    [image] = [m for m in logged if "media/router/back.png" in m]
    assert "Not stored" in image
    assert "draft" not in image
    assert any("broken.yaml" in m and m.endswith("(kept as an invalid draft)") for m in logged)
