"""The accounting behind each row of the table: what was promised against what happened.

Pure functions over plain records, so the rules that decide "lost" or "sent
twice" can be read and unit-tested apart from the processes that produce the
evidence.  The evidence comes from three witnesses that do not share code:
the texters (which webhooks were answered 200), textdesk's database (inbox
and outbox rows) and the Twilio stand-in (which sends it accepted).

Replies are matched between the outbox and the stand-in by recipient and
body, as a multiset: textdesk's outbox row and the stand-in's message share
no identifier that survives a crash between Twilio's 201 and textdesk's
write of the sid, which is exactly when a reply goes out twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Set
from dataclasses import dataclass, field

from textdesk.domain.delivery import FINAL_STATUSES

# How textdesk marks a text it keeps but will not answer on purpose (a sender that
# cannot be texted back): a decision, not a loss.
DELIBERATELY_UNANSWERED = "not answered:"
# Refusals Twilio gives for good (the recipient, not the moment, is wrong): a reply
# refused so was not lost by textdesk.  These are the stand-in's permanent answers.
REFUSED_FOR_GOOD = frozenset({21211, 21602, 21604, 21610, 21614, 21617, 21623})


@dataclass(frozen=True)
class InboxRow:
    """One stored text: its MessageSid and whether processing finished cleanly."""

    message_sid: str
    processed: bool
    error: str | None = None

    @property
    def answered(self) -> bool:
        return self.processed and self.error is None

    @property
    def settled(self) -> bool:
        """Answered, or kept unanswered on purpose: either way nothing was dropped."""
        if self.answered:
            return True
        return self.processed and (self.error or "").startswith(DELIBERATELY_UNANSWERED)


@dataclass(frozen=True)
class OutboxRow:
    """One text textdesk meant to send, as its outbox row stands at the end."""

    to: str
    body: str
    status: str
    twilio_sid: str | None = None
    error_code: int | None = None

    @property
    def expected(self) -> bool:
        """Whether a texter should have received it (canceled or refused rows: no)."""
        if self.status == "canceled":
            return False
        return not (self.status == "failed" and self.error_code in REFUSED_FOR_GOOD)


@dataclass(frozen=True)
class Accepted:
    """One send the Twilio stand-in accepted (answered 201)."""

    to: str
    body: str


@dataclass
class Evidence:
    """Everything one scenario produced, gathered once the system has drained.

    ``genuine`` is every MessageSid the texters posted as a real text; an inbox row
    with any other sid came from a forged or spliced webhook.  ``None`` where
    the scenario posts arbitrary sids on purpose (fuzzing).  ``forged_acknowledged``
    names the forged posts textdesk answered 200 instead of refusing.
    """

    acknowledged: Set[str]
    inbox: list[InboxRow]
    outbox: list[OutboxRow]
    accepted: list[Accepted]
    server_errors: int
    genuine: Set[str] | None = None
    forged_acknowledged: Set[str] = frozenset()


@dataclass(frozen=True)
class Row:
    """One line of the table.  The last five columns are the "bad" ones: all 0."""

    scenario: str
    acknowledged: int
    stored: int
    answered: int
    expected: int
    sent: int
    sent_twice: int
    lost: int
    server_errors: int
    stuck: int
    forged: int
    notes: list[str] = field(default_factory=list)

    @property
    def bad(self) -> int:
        """The sum of the columns that must be 0."""
        return self.sent_twice + self.lost + self.server_errors + self.stuck + self.forged


def _match_replies(
    outbox: Iterable[OutboxRow], accepted: Iterable[Accepted]
) -> tuple[int, int, int]:
    """(sent, sent twice, never sent) by recipient and body, counted as multisets."""
    expected = Counter((r.to, r.body) for r in outbox if r.expected)
    got = Counter((a.to, a.body) for a in accepted)
    sent = twice = missing = 0
    for key in expected.keys() | got.keys():
        want, have = expected[key], got[key]
        sent += min(want, have)
        twice += max(0, have - want)
        missing += max(0, want - have)
    return sent, twice, missing


def tally(scenario: str, evidence: Evidence, notes: Iterable[str] = ()) -> Row:
    """Turn one scenario's evidence into its row.

    * lost: acknowledged texts never stored, stored ones neither answered nor
      kept unanswered on purpose, and expected replies the stand-in never accepted;
    * sent twice: sends the stand-in accepted beyond what the outbox holds;
    * stuck: replies Twilio accepted whose row never reached a final status;
    * forged: forged posts answered 200 or stored (an inbox row whose sid no texter sent).
    """
    stored = {row.message_sid: row for row in evidence.inbox}
    never_stored = [sid for sid in evidence.acknowledged if sid not in stored]
    unanswered = [sid for sid in evidence.acknowledged if sid in stored and not stored[sid].settled]
    on_purpose = sum(1 for row in evidence.inbox if row.settled and not row.answered)
    sent, twice, missing = _match_replies(evidence.outbox, evidence.accepted)
    stuck = sum(
        1 for r in evidence.outbox if r.twilio_sid is not None and r.status not in FINAL_STATUSES
    )
    forged = set(evidence.forged_acknowledged)
    if evidence.genuine is not None:
        forged |= {sid for sid in stored if sid not in evidence.genuine}
    lines = list(notes)
    if on_purpose:
        lines.append(f"{on_purpose} texts kept but not answered on purpose (sender not textable)")
    if never_stored:
        lines.append(f"acknowledged but not stored: {', '.join(sorted(never_stored)[:3])}")
    if unanswered:
        lines.append(f"stored but not answered: {', '.join(sorted(unanswered)[:3])}")
    if missing:
        lines.append(f"{missing} expected replies never reached the stand-in")
    return Row(
        scenario=scenario,
        acknowledged=len(evidence.acknowledged),
        stored=len(stored),
        answered=sum(1 for row in evidence.inbox if row.answered),
        expected=sum(1 for r in evidence.outbox if r.expected),
        sent=sent,
        sent_twice=twice,
        lost=len(never_stored) + len(unanswered) + missing,
        server_errors=evidence.server_errors,
        stuck=stuck,
        forged=len(forged),
        notes=lines,
    )
