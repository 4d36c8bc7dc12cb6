"""textdesk's own processes, started as an operator starts them, and killed without warning.

Each is the installed ``textdesk`` command (``serve``, ``serve --workers 2``,
``worker``) configured by environment only, never an in-process app: a fault
suite that imported the app could not kill it the way a machine dies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from benchmarks.children import TEXTDESK, die_with_parent, log_tail, stop

# Seconds; a start takes 2-3 s on a quiet 2-core machine, and over 30 s when eight
# people's test runs share it.
STARTUP_TIMEOUT = 120.0
# A worker has no HTTP port to ask; alive this long after start, it has got past
# its settings, topics and database checks (which take about a second here).
WORKER_SETTLE = 3.0


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in listed]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class Textdesk:
    """One ``textdesk`` process: ``args`` after the command, its log, its port if it serves."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str]
    log: Path
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"--- {time.strftime('%H:%M:%S')} textdesk {' '.join(self.args)}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [TEXTDESK, *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                # One foreign call on a preloaded libc: no Python locks involved.
                preexec_fn=die_with_parent,  # noqa: PLW1509
            )
        if self.port is None:
            time.sleep(WORKER_SETTLE)
            self._check_alive()
        else:
            self.wait_healthy()

    def _check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")

    def wait_healthy(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Until ``/healthz`` answers 200 (the process may be a supervisor of workers)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy in {timeout:.0f}s:\n{self.log_tail()}")

    def kill9(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a power cut would end it."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)

    def kill9_worker(self) -> int:
        """SIGKILL one of the worker processes of ``serve --workers N``; its pid.

        uvicorn's supervisor notices and starts a new one, as it would in production.
        """
        workers = self.workers()
        if not workers:
            raise RuntimeError(f"{self.name} has no worker processes to kill")
        os.kill(workers[0], signal.SIGKILL)
        return workers[0]

    def workers(self) -> list[int]:
        """The pids of the worker processes under this supervisor."""
        if self.proc is None:
            return []
        return [
            pid
            for pid in _children(self.proc.pid)
            if "multiprocessing" in _cmdline(pid) and "resource_tracker" not in _cmdline(pid)
        ]

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop(proc, grace=15)

    def log_tail(self) -> str:
        return log_tail(self.log)
