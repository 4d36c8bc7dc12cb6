"""A topic folder with its images and scripts, through `textdesk topics` import and export."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.e2e.conftest import TEXTDESK
from tests.images import photo
from tests.topic_sources import ROUTER
from textdesk.config import DEMO_TOPICS_DIR

HAND_WRITTEN = "# Hand-written; the image lives in media/router/.\n" + ROUTER
GREETING = "title: Greeting\nshow_in_menu: false\nnodes:\n  - type: message\n    text: Hi!\n"
FALLBACK = GREETING.replace("Greeting", "Fallback").replace("Hi!", "Sorry?")
# CRLF line endings on purpose: they come back out of the export.
SCRIPT = (
    "name: Router, happy path\r\n"
    "steps:\r\n"
    "  - say: router\r\n"
    "    expect: ten seconds\r\n"
    "    expect_media: true\r\n"
)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
    return env | {
        "TEXTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'textdesk.db'}",
        "TEXTDESK_SECRET_KEY": "topic-assets-" + "k7Qm2xZp9Lr4Tn8Wv3Ys6Ud1" * 2,
    }


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TEXTDESK, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _folder(topics: Path) -> None:
    (topics / "media" / "router").mkdir(parents=True)
    (topics / "greeting.yaml").write_text(GREETING)
    (topics / "fallback.yaml").write_text(FALLBACK)
    (topics / "router.yaml").write_text(HAND_WRITTEN)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_images_and_scripts_round_trip_byte_for_byte_and_the_export_checks(
    tmp_path: Path,
) -> None:
    """validate and test pass on the hand-made folder; import stores the image and the
    script; export → import → export gives the same bytes, and the export passes too."""
    topics = tmp_path / "topics"
    _folder(topics)
    (topics / "scripts").mkdir()
    (topics / "media" / "router" / "back.png").write_bytes(photo(6, 5))
    (topics / "scripts" / "router__happy.yaml").write_bytes(SCRIPT.encode())
    env = _env(tmp_path)
    assert _run(env, "topics", "validate", str(topics)).returncode == 0
    tested = _run(env, "topics", "test", str(topics))
    assert tested.returncode == 0, tested.stdout
    assert "1 passed, 0 failed" in tested.stdout

    assert _run(env, "migrate").returncode == 0
    done = _run(env, "topics", "import", str(topics))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "published: fallback, greeting, router" in done.stdout
    assert "images and scripts stored: 2" in done.stdout
    exported = tmp_path / "exported"
    done = _run(env, "topics", "export", str(exported))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _files(exported) == _files(topics)

    again = _run(env, "topics", "import", str(exported))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "published: none; unchanged: 3" in again.stdout
    assert "images and scripts stored: 0" in again.stdout
    second = tmp_path / "second"
    assert _run(env, "topics", "export", str(second)).returncode == 0
    assert _files(second) == _files(topics)
    assert _run(env, "topics", "validate", str(second)).returncode == 0
    assert "1 passed, 0 failed" in _run(env, "topics", "test", str(second)).stdout


def test_a_pdf_named_png_in_a_folder_is_refused_and_the_demo_folder_still_imports(
    tmp_path: Path,
) -> None:
    topics = tmp_path / "topics"
    _folder(topics)
    (topics / "media" / "router" / "back.png").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    env = _env(tmp_path)
    assert _run(env, "migrate").returncode == 0
    done = _run(env, "topics", "import", str(topics))
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "media/router/back.png:1: Not stored: this file is not a JPEG, PNG" in out
    assert "kept as drafts: router" in out
    assert "Traceback" not in out
    demo = _run(env, "topics", "import", str(DEMO_TOPICS_DIR))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "serial_number" in demo.stdout
