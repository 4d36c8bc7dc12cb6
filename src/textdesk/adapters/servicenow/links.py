"""Where a texter opens an incident kept on the instance (its Service Portal page), and
where staff open it, or a texter's profile, there (the forms).

A record on ServiceNow has no page in textdesk (the record page reads the built-in
store), so its card links to the instance instead, to the portal's ticket page:
the page a caller (an ``snc_internal`` user, not an agent) may open, the one the
instance's own notifications to callers link to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any
from urllib.parse import quote

from textdesk.domain.records import Record
from textdesk.ports import RecordViewer


def portal_url(instance_url: str, sys_id: str, table: str = "incident") -> str:
    """The Service Portal's page of one record."""
    return f"{instance_url.rstrip('/')}/sp?id=ticket&table={table}&sys_id={quote(sys_id)}"


def form_url(instance_url: str, table: str, sys_id: str) -> str:
    """A record's form in the instance's standard interface, for staff: the URL
    ServiceNow documents for an existing record, ``nav_to.do?uri=<table>.do?sys_id=…``."""
    return f"{instance_url.rstrip('/')}/nav_to.do?uri={table}.do?sys_id={quote(sys_id)}"


def profile_url(instance_url: str, sys_id: str) -> str:
    """A user's profile on the instance (its ``sys_user`` form)."""
    return form_url(instance_url, "sys_user", sys_id)


@dataclass(frozen=True)
class InstanceForms:
    """``ports.StaffRecordLinks``: agents open an incident's form on the instance."""

    instance_url: str

    def url_of(self, record: Record) -> str | None:
        if record.external_id is None:
            return None
        return form_url(self.instance_url, "incident", record.external_id)


@dataclass(frozen=True)
class InstanceViews:
    """``ports.RecordViewer``: a record on the instance links there; others as ``local``."""

    instance_url: str
    local: RecordViewer
    zone: tzinfo = UTC

    def view(self, record: Record) -> dict[str, Any]:
        if record.external_id is None:
            return self.local.view(record)
        return record.as_dict(url=portal_url(self.instance_url, record.external_id), zone=self.zone)
