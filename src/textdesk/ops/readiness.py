"""Whether this process can serve: the database answers (``/readyz``)."""

from __future__ import annotations

from dataclasses import dataclass

from textdesk.ports import DatabaseProbe


@dataclass(frozen=True)
class Readiness:
    database: DatabaseProbe

    async def problem(self) -> str | None:
        """None when ready; else what the database said, for the operator to read."""
        try:
            await self.database.ping()
        # Whatever stops the answer (refused connection, bad credentials, a driver
        # error) means "not ready", and its words are the operator's first clue.
        except Exception as exc:
            return str(exc)
        return None
