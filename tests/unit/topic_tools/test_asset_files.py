"""A topic folder's images and scripts on disk: where they are read from and written to."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textdesk.ports import TopicAsset
from textdesk.topic_tools.asset_files import folder_images, folder_scripts, write_assets
from textdesk.topic_tools.topic_files import folder_media_exists
from textdesk.topics.assets import Kind

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _asset(topic_id: str, kind: Kind, name: str, data: bytes) -> TopicAsset:
    return TopicAsset(topic_id, kind, name, "x/y", len(data), "", "ada", NOW, data)


def test_what_is_written_is_read_back_and_names_its_topic(tmp_path: Path) -> None:
    """A script's topic is what comes before the last "__" (topic ids may have one);
    a script with none is the folder's own and is not a topic's."""
    written = [
        _asset("my__vpn", "script", "happy", b"steps:\r\n  - say: vpn\r\n"),
        _asset("router", "image", "back.png", b"PNG"),
    ]
    assert write_assets(tmp_path, written) == 2
    (tmp_path / "scripts" / "smoke.yaml").write_text("steps: []\n")
    assert folder_scripts(tmp_path) == [("my__vpn", "happy", b"steps:\r\n  - say: vpn\r\n")]
    assert folder_images(tmp_path) == [("router", "back.png", b"PNG")]
    exists = folder_media_exists(tmp_path)
    assert exists("topics/router/back.png")
    assert exists("demo/serial.png")
    assert not exists("topics/router/front.png")
    assert not exists("topics/router/../../etc/passwd")
