"""The ``textdesk`` command, run in a folder of its own as an operator types it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.e2e.conftest import TEXTDESK


def textdesk_in(folder: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``textdesk *args`` in ``folder`` with no textdesk or Twilio settings from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
    return subprocess.run(
        [TEXTDESK, *args],
        cwd=folder,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
