"""A topic folder's images and scripts on disk, as ``topics export`` writes them.

Beside the topic files::

    DIR/report_issue.yaml
    DIR/media/report_issue/router.png        # media: topics/report_issue/router.png
    DIR/scripts/report_issue__happy_path.yaml

``media/<topic_id>/<name>`` mirrors the image's key; a script's file names its topic
before the last ``__`` (script names have none), and ``DIR/scripts`` is where
``textdesk topics test DIR`` looks when there is no ``scripts`` folder beside DIR.
A script without a topic in its name (``DIR/scripts/smoke.yaml``) is the folder's
own: ``topics test`` runs it, import leaves it on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textdesk.ports import TopicAsset

MEDIA = "media"
SCRIPTS = "scripts"


def script_file(topic_id: str, name: str) -> str:
    return f"{topic_id}__{name}.yaml"


def folder_images(directory: Path) -> list[tuple[str, str, bytes]]:
    """``(topic_id, name, bytes)`` of every file under ``DIR/media/<topic_id>/``."""
    media = directory / MEDIA
    if not media.is_dir():
        return []
    return [
        (folder.name, path.name, path.read_bytes())
        for folder in sorted(media.iterdir())
        if folder.is_dir()
        for path in sorted(folder.iterdir())
        if path.is_file()
    ]


def folder_scripts(directory: Path) -> list[tuple[str, str, bytes]]:
    """``(topic_id, name, bytes)`` of every ``DIR/scripts/<topic_id>__<name>.yaml``
    (bytes: line endings stay as written, so an export gives them back)."""
    scripts = directory / SCRIPTS
    if not scripts.is_dir():
        return []
    found = []
    for path in sorted(scripts.iterdir()):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        topic_id, marker, name = path.stem.rpartition("__")
        if marker and topic_id and name:
            found.append((topic_id, name, path.read_bytes()))
    return found


def write_assets(directory: Path, assets: Sequence[TopicAsset]) -> int:
    """Write each asset's bytes exactly as stored; how many were written."""
    for asset in assets:
        assert asset.data is not None
        if asset.kind == "image":
            path = directory / MEDIA / asset.topic_id / asset.name
        else:
            path = directory / SCRIPTS / script_file(asset.topic_id, asset.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(asset.data)
    return len(assets)
