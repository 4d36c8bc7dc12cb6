"""The wheel a team installs carries everything the pages and the demo need."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from textdesk.web.simulator.routes import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = STATIC_DIR.parents[1]


def test_the_wheel_ships_every_static_and_vendored_file(tmp_path: Path) -> None:
    """Files in nested folders (static/vendor/<package>/…) are in the built wheel."""
    # A copy of the tree: pip builds in place, and a stale build/ must not hide a gap.
    source = tmp_path / "source"
    skip = shutil.ignore_patterns(".*", "build", "var", "__pycache__", "*.egg-info")
    shutil.copytree(ROOT, source, ignore=skip)
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("textdesk-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "textdesk/" + path.relative_to(PACKAGE).as_posix()
        for folder in ("web/static", "web/templates", "demo", "templates", "migrations")
        for path in (PACKAGE / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected - shipped == set()
    assert not any("__pycache__" in name for name in shipped)
