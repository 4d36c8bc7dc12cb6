"""The install's own state in its data folder (``./var/``): its secret key, its demo mark.

A local install keeps everything in the folder of its SQLite database, so every process
and every CLI command started there finds the same files without being told.  Other
databases have no such folder: several processes on several hosts must be given the
same settings by the operator.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
DEMO_MARKER = "demo"
SECRET_MIN_LENGTH = 32
SECRET_MIN_DISTINCT = 16
MAKE_A_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"  # noqa: S105 - a command


def data_dir_of(database_url: str) -> Path | None:
    """The folder of a SQLite database file; ``None`` for other (or in-memory) databases."""
    url = make_url(database_url)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database:
        return None
    if database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve().parent


def weak_secret(key: str) -> str | None:
    """Why ``key`` cannot sign sessions, webhooks and links, or ``None`` if it can."""
    distinct = len(set(key))
    if len(key) >= SECRET_MIN_LENGTH and distinct >= SECRET_MIN_DISTINCT:
        return None
    return (
        f"is too weak ({len(key)} characters, {distinct} different; at least "
        f"{SECRET_MIN_LENGTH} characters with {SECRET_MIN_DISTINCT} different ones are "
        f"needed): make one with `{MAKE_A_SECRET}`"
    )


def local_secret_key(folder: Path) -> str:
    """The key generated for the install in ``folder``, created on first use.

    The key is written whole to a private (0600) temporary file, then hard-linked into
    place: a link never replaces an existing file, so when two processes start at once
    exactly one key wins and both read it, and nobody ever reads half a key.
    """
    path = folder / SECRET_KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _sync_folder(folder)
    return path.read_text().strip()


def _sync_folder(folder: Path) -> None:
    # The new name must survive a power cut too, or the next start makes another key
    # and every signed-in agent (and every signed link) is refused.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_demo(folder: Path | None) -> bool:
    """Whether ``textdesk demo seed`` made the install in ``folder`` a demo."""
    return folder is not None and (folder / DEMO_MARKER).is_file()


def mark_demo(folder: Path) -> Path:
    """Record that the install in ``folder`` is a demo (its sandbox serves without Twilio)."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / DEMO_MARKER
    marker.write_text(
        "Written by `textdesk demo seed`: this install serves the sandbox and the phone\n"
        "simulator when no Twilio credentials are set. TEXTDESK_DEMO=0 overrides it;\n"
        "delete this file to make the install a real one.\n"
    )
    return marker
