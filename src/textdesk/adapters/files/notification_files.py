"""Notification templates and command wording, read from a folder operators can edit.

``<name>.txt`` is the template of a record event (``state_changed``, ``commented``,
``assigned``, ``created``) or of a named API notification; ``replies.yaml`` rewords
what Notification/START/STOP answer.  A file missing from the operator's folder falls
back to the packaged one, so a folder only needs the files it changes.  Files are
re-read when they change on disk: edits apply without a restart.
"""

from __future__ import annotations

import logging
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from textdesk.config import NOTIFICATION_TEMPLATES_DIR
from textdesk.domain.subscriptions import Wording

log = logging.getLogger(__name__)

PACKAGED_DIR = NOTIFICATION_TEMPLATES_DIR
WORDING_FILE = "replies.yaml"
# Template names become file names: nothing that could climb out of the folder.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class InvalidWording(ValueError):
    """``replies.yaml`` names a text we don't have, or isn't a mapping of strings."""


def parse_wording(text: str, base: Wording | None = None) -> Wording:
    """``replies.yaml`` content over ``base`` (the built-in wording when omitted)."""
    data: Any = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise InvalidWording(f"{WORDING_FILE} must be a mapping of name: text")
    unknown = set(data) - Wording.keys()
    if unknown:
        raise InvalidWording(
            f"{WORDING_FILE}: unknown name(s) {', '.join(sorted(map(str, unknown)))}; "
            f"known: {', '.join(sorted(Wording.keys()))}"
        )
    values = {f.name: getattr(base or Wording(), f.name) for f in fields(Wording)}
    for key, value in data.items():
        if not isinstance(value, str):
            raise InvalidWording(f"{WORDING_FILE}: {key} must be text")
        values[key] = value.strip()
    return Wording(**values)


class NotificationFiles:
    """``ports.NotificationTemplates``: the templates folder
    (``TEXTDESK_NOTIFICATION_TEMPLATES_DIR``) over the packaged one."""

    def __init__(self, directory: Path, fallback: Path = PACKAGED_DIR) -> None:
        self.directory = directory
        self._folders = [directory] if directory == fallback else [directory, fallback]
        self._cache: dict[Path, tuple[float, str]] = {}
        self._wording: tuple[tuple[float, ...], Wording] | None = None

    def _read(self, path: Path) -> str | None:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        cached = self._cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        text = path.read_text(encoding="utf-8")
        self._cache[path] = (mtime, text)
        return text

    def template(self, name: str) -> str | None:
        """The source of template ``name``; ``None`` when no folder has it (or bad name)."""
        if not NAME_RE.match(name):
            return None
        for folder in self._folders:
            text = self._read(folder / f"{name}.txt")
            if text is not None:
                return text.strip()
        return None

    def wording(self) -> Wording:
        """Command replies: packaged ``replies.yaml`` overlaid by the operator's.

        Raises :class:`InvalidWording` for a broken file; call it at start to fail early.
        """
        paths = [folder / WORDING_FILE for folder in reversed(self._folders)]
        stamps = tuple(p.stat().st_mtime if p.exists() else 0.0 for p in paths)
        if self._wording is not None and self._wording[0] == stamps:
            return self._wording[1]
        wording = Wording()
        for path in paths:
            text = self._read(path)
            if text is not None:
                wording = parse_wording(text, wording)
        self._wording = (stamps, wording)
        return wording

    def safe_wording(self) -> Wording:
        """Like :meth:`wording`, but a file broken while running keeps the last good one."""
        try:
            return self.wording()
        except (InvalidWording, yaml.YAMLError, OSError):
            log.exception("notification wording unreadable; keeping the previous wording")
            return self._wording[1] if self._wording is not None else Wording()
