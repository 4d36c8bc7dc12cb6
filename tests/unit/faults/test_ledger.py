"""The fault suite's accounting: what counts as lost, sent twice, stuck or forged."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from faults.ledger import Accepted, Evidence, InboxRow, OutboxRow, tally


def _evidence(**changes: Any) -> Evidence:
    """Two texters, each acknowledged, stored, answered and sent one reply; then ``changes``."""
    clean = Evidence(
        acknowledged={"SM1", "SM2"},
        inbox=[InboxRow("SM1", processed=True), InboxRow("SM2", processed=True)],
        outbox=[
            OutboxRow("+15550001", "Hello", "delivered", "SMa"),
            OutboxRow("+15550002", "Hello", "delivered", "SMb"),
        ],
        accepted=[Accepted("+15550001", "Hello"), Accepted("+15550002", "Hello")],
        server_errors=0,
        genuine={"SM1", "SM2"},
    )
    return replace(clean, **changes)


def test_a_clean_run_has_every_bad_column_at_zero() -> None:
    """Everything acknowledged stored, answered and sent once: nothing is bad."""
    row = tally("clean", _evidence())
    assert (row.acknowledged, row.stored, row.answered, row.expected, row.sent) == (2, 2, 2, 2, 2)
    assert row.bad == 0


def test_an_acknowledged_text_missing_from_the_inbox_is_lost() -> None:
    """A 200 whose text was never stored counts as lost, and is named in the notes."""
    row = tally("crash", _evidence(inbox=[InboxRow("SM1", processed=True)]))
    assert row.lost == 1
    assert any("SM2" in note for note in row.notes)


def test_a_stored_text_never_processed_is_lost_but_one_kept_unanswered_on_purpose_is_not() -> None:
    """Unprocessed or failed texts are lost; textdesk's deliberate "not answered" is not."""
    inbox = [
        InboxRow("SM1", processed=False),
        InboxRow("SM2", processed=True, error="not answered: the sender is not a phone number"),
    ]
    assert tally("mixed", _evidence(inbox=inbox)).lost == 1
    failed = [InboxRow("SM1", processed=True, error="ValueError: boom"), inbox[1]]
    assert tally("failed", _evidence(inbox=failed)).lost == 1


def test_the_same_reply_accepted_twice_is_sent_twice_not_sent() -> None:
    """Two accepted copies of one outbox row: one sent, one sent twice."""
    accepted = [*_evidence().accepted, Accepted("+15550001", "Hello")]
    row = tally("dup", _evidence(accepted=accepted))
    assert (row.sent, row.sent_twice, row.lost) == (2, 1, 0)


def test_replies_are_matched_as_a_multiset_so_repeated_bodies_are_not_duplicates() -> None:
    """The bot may say the same thing twice to one texter; two rows, two sends: fine."""
    outbox = [
        OutboxRow("+15550001", "Menu", "delivered", "SMa"),
        OutboxRow("+15550001", "Menu", "delivered", "SMb"),
    ]
    accepted = [Accepted("+15550001", "Menu"), Accepted("+15550001", "Menu")]
    row = tally("menu", _evidence(outbox=outbox, accepted=accepted))
    assert (row.expected, row.sent, row.sent_twice, row.lost) == (2, 2, 0, 0)


def test_a_reply_given_up_on_is_lost_but_one_refused_for_good_is_not_expected() -> None:
    """Failed after retries (500s) is lost; failed with 21211 (bad number) was never sendable."""
    outbox = [
        OutboxRow("+15550001", "Hello", "failed", None, 20500),
        OutboxRow("+15550002", "Hello", "failed", None, 21211),
    ]
    row = tally("outage", _evidence(outbox=outbox, accepted=[]))
    assert (row.expected, row.sent, row.lost) == (1, 0, 1)


def test_an_accepted_reply_without_a_final_status_is_stuck() -> None:
    """A row Twilio took (it has a sid) but still at "sent" is stuck; "delivered" is not."""
    outbox = [
        OutboxRow("+15550001", "Hello", "sent", "SMa"),
        OutboxRow("+15550002", "Hello", "delivered", "SMb"),
    ]
    assert tally("callbacks", _evidence(outbox=outbox)).stuck == 1


def test_a_stored_spliced_sid_and_an_acknowledged_splice_count_once_each() -> None:
    """Forged = stored under a sid no texter sent, or answered 200; the same sid once."""
    inbox = [*_evidence().inbox, InboxRow("SM1NumMedia0", processed=True)]
    row = tally(
        "splice",
        _evidence(inbox=inbox, forged_acknowledged={"SM1NumMedia0", "SM2 (SmsMessageSid spliced)"}),
    )
    assert row.forged == 2
    assert row.stored == 3
