"""Vendored front-end files carry their pinned version and their licence."""

from __future__ import annotations

import json
from pathlib import Path

from textdesk.web.simulator.routes import STATIC_DIR

VENDOR = STATIC_DIR / "vendor"


def _pins() -> dict[str, tuple[str, list[str]]]:
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in (VENDOR / "vendor.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            spec, *files = line.split()
            name, version = spec.rsplit("@", 1)
            pins[name] = (version, files)
    return pins


def test_every_vendored_folder_is_pinned_and_nothing_else_is_there() -> None:
    """Each folder under static/vendor is a package listed in vendor.txt, and back."""
    folders = {p.name for p in VENDOR.iterdir() if p.is_dir()}
    assert folders == set(_pins())


def test_vendored_files_match_their_pin_and_keep_their_licence() -> None:
    """The package.json beside the files has the pinned version; a licence file is there."""
    for name, (version, files) in _pins().items():
        folder = VENDOR / name
        meta = json.loads((folder / "package.json").read_text())
        assert (meta["name"], meta["version"]) == (name, version)
        assert meta.get("license"), f"{name}: package.json names no licence"
        assert any(p.name.upper().startswith("LICENSE") for p in folder.iterdir()), name
        for file in files:
            assert (folder / Path(file).name).is_file(), f"{name}: {file} missing"
        listed = {Path(f).name for f in files}
        assert {p.name for p in folder.iterdir()} == listed, f"{name}: unlisted files"
