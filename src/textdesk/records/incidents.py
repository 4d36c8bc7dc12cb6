"""Record use cases shared by the REST API, the virtual agent and (later) agents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from textdesk.adapters.signed_urls import RecordLinkSigner
from textdesk.domain.records import Record


@dataclass(frozen=True)
class RecordViews:
    """Records as texters, cards, templates and the record page show them.

    One per desk (built at start): the record's signed link, and its dates in the
    desk's timezone (``TEXTDESK_TIMEZONE``).
    """

    links: RecordLinkSigner
    zone: tzinfo = UTC

    def view(self, record: Record) -> dict[str, Any]:
        """The record as a dict, with the texter-facing link and the desk's dates."""
        return record.as_dict(url=self.links.url_for(record.number), zone=self.zone)
