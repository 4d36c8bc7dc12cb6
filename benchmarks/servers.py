"""The benchmark's server processes: one uvicorn each, same settings, free ports."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.children import die_with_parent, free_port, log_tail, stop

# Same uvicorn for every server: one worker, uvloop + httptools, lifespan on, quiet.
UVICORN_ARGS = (
    "--host",
    "127.0.0.1",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--lifespan",
    "on",
    "--no-access-log",
    "--log-level",
    "warning",
    "--timeout-graceful-shutdown",
    "3",
)
# Every server logs warnings and worse with their level and logger, so a problem in
# any of them can be told apart and reported (uvicorn alone would leave the app's
# loggers to Python's bare last-resort handler).
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"level": "WARNING", "handlers": ["stderr"]},
}
STARTUP_TIMEOUT = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def clean_env(**extra: str) -> dict[str, str]:
    """Our environment minus anything that configures textdesk, Twilio or the bench."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_", "BENCH_"))
    }
    env.update(extra)
    return env


@dataclass
class Server:
    """One uvicorn process serving one ASGI factory."""

    name: str
    app: str
    env: dict[str, str]
    log: Path
    health: str = "/healthz"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "uvicorn", self.app, "--factory", *UVICORN_ARGS]
        log_config = self.log.with_name("logging.json")
        if not log_config.exists():
            log_config.write_text(json.dumps(LOG_CONFIG))
        command += ["--log-config", str(log_config), "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                # One foreign call on a preloaded libc: no Python locks involved.
                preexec_fn=die_with_parent,  # noqa: PLW1509
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + self.health, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready in {STARTUP_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU the process has used so far (from /proc)."""
        if self.proc is None:
            return 0.0
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop(proc, grace=10)

    def log_tail(self) -> str:
        return log_tail(self.log)

    def log_problems(self) -> list[str]:
        """What the server logged: at ``--log-level warning`` every line is news."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return []
        return [line for line in lines if line.strip()]


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def profiling(pid: int, output: str | None) -> Iterator[None]:
    """Sample textdesk with py-spy while the block runs (perturbs the figures)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if output is None or not Path(spy).exists():
        if output is not None:
            print("py-spy not found; not profiling (pip install py-spy)", file=sys.stderr)
        yield
        return
    formats = {".svg": "flamegraph", ".json": "speedscope"}
    fmt = formats.get(Path(output).suffix, "raw")
    proc = subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--output", output, "--format", fmt, "--rate", "250"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)  # py-spy attaches before the load starts
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
