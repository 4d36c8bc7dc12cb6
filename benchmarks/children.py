"""Child processes of the benchmark and the fault suite: what both do the same way.

A loopback port, a ``textdesk`` command run to completion, a child that dies with
its parent, a stop that is polite first, and the tail of a child's log.
"""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
from pathlib import Path

TEXTDESK = str(Path(sys.executable).with_name("textdesk"))

# Loaded here, not in the forked child, so the child makes one plain foreign call.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def free_port() -> int:
    """A loopback port free now; the child binds it a moment later."""
    # Nothing else races for ports on this loopback.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent() -> None:
    """In the child: get SIGTERM if the parent itself is killed (even by SIGKILL)."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def run_textdesk(env: dict[str, str], *args: str, timeout: float = 120.0) -> str:
    """Run one ``textdesk`` command to completion (``migrate``, ``numbers add`` …); its output.

    ``timeout`` is generous: a command takes a second alone, far longer on a shared machine.
    """
    done = subprocess.run(
        [TEXTDESK, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"textdesk {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def stop(proc: subprocess.Popen[bytes] | None, *, grace: float) -> None:
    """SIGTERM, then SIGKILL if ``proc`` has not exited within ``grace`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def log_tail(log: Path, chars: int = 3000) -> str:
    """The last ``chars`` of a child's log, for an error message; empty if unreadable."""
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return ""
