"""What the Workspace shows of a texter kept in another service (a ServiceNow instance).

With ``TEXTDESK_RECORDS=servicenow`` a texter may be a ``sys_user`` profile without
an account here, and their incidents live on the instance.  The conversation's page
is read in one transaction (``workspace.py``); this is what is added after it
closes: the profile from the user index (memory), and the texter's incidents from
the record store, which calls the instance and so never runs with a transaction
open (``domain/agent/awaiting.py``).  An instance that does not answer leaves the
page as it was read, rather than failing it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from textdesk.live_agents.conversation_view import ConversationView, Profile, RecordSummary
from textdesk.ports import RecordStore, StaffRecordLinks, TexterProfiles

log = logging.getLogger(__name__)

RECORDS_SHOWN = 50  # as many as the built-in Records panel lists


@dataclass(frozen=True)
class RemoteTexters:
    """The other service's users, its records, and where agents open those."""

    profiles: TexterProfiles
    records: RecordStore
    links: StaffRecordLinks

    async def add_to(self, view: ConversationView) -> ConversationView:
        """``view`` with the texter's profile there and their records from there."""
        profile = self._profile(view.profile)
        try:
            found = await self.records.open_records_of(
                user_id=None, phone=view.profile.phone, limit=RECORDS_SHOWN
            )
        except Exception:
            log.warning("the records of conversation %d cannot be read", view.id, exc_info=True)
            return replace(view, profile=profile)
        records = [
            RecordSummary(
                r.number,
                r.short_description,
                r.state,
                r.priority,
                r.updated_at,
                self.links.url_of(r) or "",
            )
            for r in found
        ]
        return replace(view, profile=profile, records=records)

    def _profile(self, here: Profile) -> Profile:
        there = self.profiles.profile(here.phone)
        if there is None:
            return here
        # An account here keeps the name and email staff gave it; the link is added.
        return Profile(
            here.phone, here.name or there.name, here.email or there.email, link=there.link
        )
