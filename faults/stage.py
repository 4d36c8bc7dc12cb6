"""One scenario's world: a fresh database, its own Twilio stand-in, textdesk's settings.

Everything a scenario starts is started here and stopped when it ends, even
when it fails, and textdesk is configured only as an operator would configure
it: environment variables, ``textdesk migrate``, ``textdesk numbers add``.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from benchmarks import standin as bench_standin
from benchmarks.children import free_port, run_textdesk
from benchmarks.load import NUMBER
from benchmarks.servers import Server, clean_env

from faults.context import Context
from faults.databases import Database, flush_redis
from faults.evidence import Witness, drain, standin_report
from faults.ledger import Evidence
from faults.processes import Textdesk
from faults.texters import ACCOUNT_SID, Twilio
from textdesk.config import DEMO_TOPICS_DIR

# Settings every scenario shares, and why:
BASE_SETTINGS = {
    "TEXTDESK_DEMO": "0",  # as in production: no sandbox, no simulator, strict secrets
    "TEXTDESK_LOG_LEVEL": "WARNING",  # every logged line is worth reading afterwards
    # The packaged demo topics, imported at start (an unset folder imports none).
    "TEXTDESK_TOPICS_DIR": str(DEMO_TOPICS_DIR),
    # Twilio paces a long code at 1 text/s; the suite's replies share one number, and
    # pacing would only make it slower without testing anything more.
    "TEXTDESK_SEND_RATE": "1000",
    # The send lease is 2 x this + 5 s: a killed process's claimed texts come back in
    # 11 s instead of 25 s.  Loopback sends take milliseconds.
    "TEXTDESK_SEND_TIMEOUT": "3",
    # Ask Twilio about a sent reply with no final status after 10 s, not 10 minutes:
    # the callbacks lost to a killed process or by the stand-in are then reconciled
    # within the scenario.  Loopback callbacks arrive in milliseconds, so 10 s still
    # leaves every callback that was coming time to come.
    "TEXTDESK_RECONCILE_AFTER": "10",
}


@dataclass
class Stage:
    """The database, stand-in and settings of one scenario."""

    name: str
    folder: Path
    database: Database
    standin: Server
    redis_url: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(36))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    web_port: int = field(default_factory=free_port)
    processes: list[Textdesk] = field(default_factory=list)

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self) -> dict[str, str]:
        """textdesk's environment: only what an operator would export."""
        env = clean_env(
            TEXTDESK_DATABASE_URL=self.database.url,
            TEXTDESK_SECRET_KEY=self.secret_key,  # 48 random characters
            TEXTDESK_PUBLIC_URL=self.public_url,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=self.auth_token,
            TWILIO_API_URL=self.standin.url,
            **BASE_SETTINGS,
        )
        if self.redis_url:
            env["TEXTDESK_REDIS_URL"] = self.redis_url
        env.update(self.settings)
        return env

    def web(self, *flags: str) -> Textdesk:
        """``textdesk serve`` on the stage's port (not started)."""
        args = ("serve", "--port", str(self.web_port), *flags)
        process = Textdesk("web", args, self.env(), self.folder / "web.log", port=self.web_port)
        self.processes.append(process)
        return process

    def worker(self) -> Textdesk:
        """``textdesk worker`` (not started)."""
        process = Textdesk("worker", ("worker",), self.env(), self.folder / "worker.log")
        self.processes.append(process)
        return process

    def twilio(self) -> Twilio:
        """Twilio's webhook client for this stage's textdesk."""
        return Twilio(self.public_url, self.auth_token)

    def control(self, path: str, **params: str) -> None:
        """Switch a fault on in the stand-in (``/faults/outage``, ``/faults/callbacks``)."""
        httpx.post(self.standin.url + path, params=params, timeout=10.0).raise_for_status()

    def witness(self) -> Witness:
        return Witness(self.database.sync_url)

    def drain(self, timeout: float) -> float:
        """Wait until textdesk has nothing left to do (see :func:`evidence.drain`)."""
        witness = self.witness()
        try:
            return drain(witness, self.standin.url, timeout=timeout)
        finally:
            witness.close()

    def evidence(self, twilio: Twilio, *, genuine: bool = True) -> Evidence:
        """What the texters, the database and the stand-in saw, in the ledger's terms."""
        witness = self.witness()
        try:
            report = standin_report(self.standin.url)
            return Evidence(
                acknowledged=set(twilio.acknowledged),
                inbox=witness.inbox(),
                outbox=witness.outbox(),
                accepted=report.accepted,
                server_errors=twilio.server_errors,
                genuine=set(twilio.genuine) if genuine else None,
            )
        finally:
            witness.close()

    def server_log_problems(self) -> list[str]:
        """Error lines textdesk's processes logged (tracebacks are the news)."""
        lines: list[str] = []
        for log in sorted({p.log for p in self.processes}):
            with contextlib.suppress(OSError):
                lines += [
                    ln for ln in log.read_text(errors="replace").splitlines() if " ERROR " in ln
                ]
        return lines


@contextlib.contextmanager
def stage(
    context: Context,
    name: str,
    slug: str,
    database: Database,
    *,
    redis: bool = False,
    settings: dict[str, str] | None = None,
) -> Iterator[Stage]:
    """A ready stage: database created and migrated, number added, stand-in serving.

    ``slug`` names the scenario's folder (logs, SQLite file); ``redis`` gives
    textdesk the suite's Redis database, flushed first.
    """
    folder = context.scenario_folder(slug)
    folder.mkdir(parents=True, exist_ok=True)
    redis_url = context.redis_url if redis else None
    if redis_url:
        flush_redis(redis_url)
    database.create()
    standin = Server(
        "standin",
        "faults.standin:create_app",
        clean_env(**{bench_standin.SID_ENV: ACCOUNT_SID, bench_standin.TOKEN_ENV: "placeholder"}),
        folder / "standin.log",
    )
    current = Stage(name, folder, database, standin, redis_url, dict(settings or {}))
    standin.env[bench_standin.TOKEN_ENV] = current.auth_token
    try:
        standin.start()
        run_textdesk(current.env(), "migrate")
        run_textdesk(current.env(), "numbers", "add", NUMBER, "--purpose", "conversational")
        yield current
    finally:
        for process in current.processes:
            process.stop()
        standin.stop()
        if context.keep:
            print(f"kept {database.kind} database {database.url}", file=sys.stderr)
        else:
            database.drop()
