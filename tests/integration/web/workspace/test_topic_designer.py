"""The topic designer over HTTP: admins only, CSRF, checks, costs, saves, publishing."""

from __future__ import annotations

import pytest

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone
from tests.integration.workspace_helpers import AgentBrowser
from textdesk.adapters.clock import SystemClock
from textdesk.bootstrap import admin_use_cases

VPN = """\
title: VPN help
keywords: [vpn]
nodes:
  - type: message
    text: Open the VPN app and sign in with your desk password.
"""


async def _revision(desk: Desk, topic_id: str) -> int:
    return int(await desk.scalar("SELECT revision FROM topics WHERE id = :t", t=topic_id))


async def _new(sam: AgentBrowser, topic_id: str) -> None:
    made = await sam.act("/workspace/topics/new", {"topic_id": topic_id})
    assert made.status_code == 303, made.text
    assert made.headers["location"] == f"/workspace/topics/{topic_id}"


async def test_only_admins_see_and_change_topics(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """An agent gets a 'only admins' page and 403s; an admin gets the list of demo topics."""
    dana, sam = staff["dana"], staff["sam"]
    listing = await dana.http.get("/workspace/topics")
    assert listing.status_code == 403
    assert "Only admins edit topics" in listing.text
    assert (await dana.http.get("/workspace/topics/greeting")).status_code == 403
    refused = await dana.act("/workspace/topics/greeting/draft", {"source": VPN, "revision": "1"})
    assert refused.status_code == 403
    assert (await dana.act("/workspace/topics/new", {"topic_id": "x"})).status_code == 403
    assert 'href="/workspace/topics"' not in (await dana.http.get("/workspace")).text

    page = await sam.http.get("/workspace/topics")
    assert page.status_code == 200
    assert "Report an issue" in page.text
    assert "version 1" in page.text
    assert 'href="/workspace/topics"' in (await sam.http.get("/workspace")).text


async def test_every_designer_post_needs_the_csrf_token(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """Without the session's token each action is refused with 403 and changes nothing."""
    sam = staff["sam"]
    revision = await _revision(desk, "greeting")
    for path, data in [
        ("/workspace/topics/new", {"topic_id": "forged"}),
        ("/workspace/topics/greeting/draft", {"source": VPN, "revision": str(revision)}),
        ("/workspace/topics/greeting/publish", {"revision": str(revision)}),
        ("/workspace/topics/greeting/unpublish", {}),
        ("/workspace/topics/greeting/rollback", {"version": "1"}),
        ("/workspace/topics/greeting/duplicate", {"new_id": "forged"}),
        ("/workspace/topics/greeting/check", {"source": VPN}),
        ("/workspace/topics/greeting/try", {"source": VPN, "phone": TEXTER, "text": "hi"}),
    ]:
        answer = await sam.act(path, data, token="")
        assert answer.status_code == 403, path
    assert await _revision(desk, "greeting") == revision
    assert await desk.scalar("SELECT count(*) FROM topics WHERE id = 'forged'") == 0


async def test_a_topic_made_in_the_designer_answers_its_keyword_once_published(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """New → save the draft → publish with a note: the keyword gets the new text."""
    sam = staff["sam"]
    await _new(sam, "vpn")
    editor = await sam.http.get("/workspace/topics/vpn")
    assert editor.status_code == 200
    assert "not published" in editor.text
    saved = await sam.act(
        "/workspace/topics/vpn/draft",
        {"source": VPN, "revision": str(await _revision(desk, "vpn"))},
    )
    assert saved.status_code == 200, saved.text
    assert "Draft saved." in saved.text
    assert "draft by Sam Admin" in saved.text
    published = await sam.act(
        "/workspace/topics/vpn/publish",
        {"revision": str(await _revision(desk, "vpn")), "note": "first cut"},
    )
    assert published.status_code == 200, published.text
    assert "Published as version 1" in published.text
    # Twilio carries the texts here: there is no phone simulator to offer.
    assert "/simulator" not in published.text

    async def served() -> bool:
        return "Open the VPN app" in await Phone(desk, TEXTER).say("vpn")

    await desk.eventually(served, what="the new topic answering its keyword")
    versions = await sam.http.get("/workspace/topics/vpn/versions")
    assert "first cut" in versions.text
    assert "Sam Admin" in versions.text
    listing = await sam.http.get("/workspace/topics")
    assert "VPN help" in listing.text


async def test_a_save_over_a_newer_change_is_refused_and_shows_it(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """Two admins open a topic; the second save is refused (409), with the first's text."""
    sam, ada = staff["sam"], staff["ada"]
    opened = await _revision(desk, "serial_number")
    source = (await sam.http.get("/workspace/topics/serial_number")).text
    assert "serial" in source.lower()
    theirs = VPN.replace("title: VPN help", "title: Serial numbers, Sam's words")
    first = await sam.act(
        "/workspace/topics/serial_number/draft", {"source": theirs, "revision": str(opened)}
    )
    assert first.status_code == 200, first.text
    mine = VPN.replace("title: VPN help", "title: Ada's serial numbers")
    second = await ada.act(
        "/workspace/topics/serial_number/draft", {"source": mine, "revision": str(opened)}
    )
    assert second.status_code == 409
    assert "Not saved: Sam Admin changed this topic since you opened it" in second.text
    assert "Serial numbers, Sam&#39;s words" in second.text
    draft = await desk.scalar("SELECT draft FROM topics WHERE id = 'serial_number'")
    assert draft == theirs
    # Keeping hers on purpose: the save names the revision she has now seen.
    over = await ada.act(
        "/workspace/topics/serial_number/draft",
        {"source": mine, "revision": str(await _revision(desk, "serial_number"))},
    )
    assert over.status_code == 200
    assert await desk.scalar("SELECT draft FROM topics WHERE id = 'serial_number'") == mine


async def test_an_invalid_text_is_pinned_to_its_line_and_not_saved(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """The check names the line and field of a typo; saving it is refused (422)."""
    sam = staff["sam"]
    await _new(sam, "vpn")
    broken = VPN.replace("    text: Open", "    txet: Open")
    checked = await sam.act("/workspace/topics/vpn/check", {"source": broken})
    assert checked.status_code == 200
    assert "2 errors" in checked.text  # the typo, and the text it leaves missing
    assert 'data-line="5"' in checked.text
    assert "nodes[0].txet</code> unknown field" in checked.text
    assert "nodes[0].text</code> field required" in checked.text
    before = await desk.scalar("SELECT draft FROM topics WHERE id = 'vpn'")
    refused = await sam.act(
        "/workspace/topics/vpn/draft",
        {"source": broken, "revision": str(await _revision(desk, "vpn"))},
    )
    assert refused.status_code == 422
    assert "Not saved: 2 error(s)" in refused.text
    assert await desk.scalar("SELECT draft FROM topics WHERE id = 'vpn'") == before


async def test_each_prompt_shows_its_cost_and_the_character_that_makes_it_ucs2(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """An emoji in a text turns it UCS-2: the cost says so and marks the emoji."""
    sam = staff["sam"]
    plain = await sam.act("/workspace/topics/greeting/check", {"source": VPN})
    assert "GSM-7" in plain.text
    assert "1 segment" in plain.text
    emoji = VPN.replace("desk password.", "desk password \U0001f600")
    checked = await sam.act("/workspace/topics/greeting/check", {"source": emoji})
    assert "UCS-2" in checked.text
    assert "<mark" in checked.text
    assert "U+1F600" in checked.text
    assert "is sent as UCS-2" in checked.text  # the validator's warning, on its line


async def test_the_settings_texts_show_their_cost_too(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """The settings send texts of their own (help, closing…): each written is costed."""
    settings = 'help_text: Text MENU.\ntexts:\n  closing: "Bye \U0001f44b"\n'
    checked = await staff["sam"].act("/workspace/topics/_settings/check", {"source": settings})
    assert checked.status_code == 200
    assert "texts.closing" in checked.text
    assert "U+1F44B" in checked.text
    assert "help_text" in checked.text


async def test_diff_versions_and_rollback(desk: Desk, staff: dict[str, AgentBrowser]) -> None:
    """The diff shows what a publish changes; rolling back makes an old version live again."""
    sam = staff["sam"]
    await _new(sam, "vpn")
    for text in (VPN, VPN.replace("desk password", "VPN token")):
        await sam.act(
            "/workspace/topics/vpn/draft",
            {"source": text, "revision": str(await _revision(desk, "vpn"))},
        )
        await sam.act(
            "/workspace/topics/vpn/publish", {"revision": str(await _revision(desk, "vpn"))}
        )
    diff = await sam.act("/workspace/topics/vpn/diff", {"source": VPN})
    assert "-    text: Open the VPN app and sign in with your VPN token." in diff.text
    assert "+    text: Open the VPN app and sign in with your desk password." in diff.text
    rolled = await sam.act("/workspace/topics/vpn/rollback", {"version": "1"})
    assert rolled.status_code == 200
    assert "Version 1 is live again, as version 3." in rolled.text
    assert 'hx-swap-oob="outerHTML"' in rolled.text  # the bar gets the new revision
    assert f'value="{await _revision(desk, "vpn")}"' in rolled.text

    async def served() -> bool:
        return "desk password" in await Phone(desk, TEXTER).say("vpn")

    await desk.eventually(served, what="version 1's text again")


async def test_a_stale_publish_is_refused(desk: Desk, staff: dict[str, AgentBrowser]) -> None:
    """Publishing names the revision the admin saw: a newer save in between is not published."""
    sam, ada = staff["sam"], staff["ada"]
    await _new(sam, "vpn")
    seen = await _revision(desk, "vpn")
    await ada.act("/workspace/topics/vpn/draft", {"source": VPN, "revision": str(seen)})
    refused = await sam.act("/workspace/topics/vpn/publish", {"revision": str(seen)})
    assert refused.status_code == 409
    assert "changed since you opened it" in refused.text
    assert await desk.scalar("SELECT published FROM topics WHERE id = 'vpn'") is None


async def test_a_save_landing_while_a_publish_is_checked_is_not_published(
    desk: Desk, staff: dict[str, AgentBrowser], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's check of the revision reads the topic before the publish takes the
    topics' lock: a save landing in between is refused by the publish itself."""
    sam, ada = staff["sam"], staff["ada"]
    await _new(sam, "vpn")
    seen = await _revision(desk, "vpn")
    library = desk.container.topic_library
    as_read = await library.get("vpn")
    await ada.act("/workspace/topics/vpn/draft", {"source": VPN, "revision": str(seen)})

    async def read_before_the_save(topic_id: str) -> object:
        return as_read  # what the publish's first read saw, just before Ada's save

    monkeypatch.setattr(library, "get", read_before_the_save)
    refused = await sam.act("/workspace/topics/vpn/publish", {"revision": str(seen)})
    assert refused.status_code == 409
    assert "changed since you opened it" in refused.text
    assert await desk.scalar("SELECT published FROM topics WHERE id = 'vpn'") is None


async def test_the_phone_pane_plays_the_draft_with_nothing_sent(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """Every text so far replays through the editor's text: replies and variables, no SMS."""
    sam = staff["sam"]
    source = """\
title: Colour
keywords: [colour]
nodes:
  - type: choice
    prompt: Which colour?
    var: colour
    options: [Red, Blue]
  - type: end
    message: You chose {{ vars.colour.label }}.
"""
    first = await sam.act(
        "/workspace/topics/greeting/try", {"source": source, "phone": TEXTER, "text": "hi"}
    )
    assert first.status_code == 200, first.text
    await _new(sam, "colour")
    asked = await sam.act(
        "/workspace/topics/colour/try", {"source": source, "phone": TEXTER, "text": "colour"}
    )
    assert "Which colour?" in asked.text
    assert 'name="texts" value="colour"' in asked.text
    answered = await sam.act(
        "/workspace/topics/colour/try",
        {"source": source, "phone": TEXTER, "texts": "colour", "text": "2"},
    )
    assert "You chose Blue." in answered.text
    assert "&#34;label&#34;: &#34;Blue&#34;" in answered.text
    assert desk.fake.messages_to(TEXTER) == []


async def test_the_phone_pane_offers_accounts_by_name_and_says_who_it_plays(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """The phone field lists account holders by name; each try says whom it played, so a
    mistyped number shows as a guest rather than as a topic that finds no records."""
    await admin_use_cases(desk.db, SystemClock()).accounts.add(name="Alice Example", phone=TEXTER)
    sam = staff["sam"]
    page = await sam.http.get("/workspace/topics/greeting")
    assert f'<option value="{TEXTER}" label="Alice Example">' in page.text
    tried = {"source": VPN, "text": "vpn"}
    alice = await sam.act("/workspace/topics/greeting/try", {**tried, "phone": TEXTER})
    assert f"As Alice Example, {TEXTER}, on a copy of their 0 records." in alice.text
    guest = await sam.act("/workspace/topics/greeting/try", {**tried, "phone": "+15551239999"})
    assert "As a guest, +15551239999: no account or user profile has this number." in guest.text


async def test_duplicate_and_delete(desk: Desk, staff: dict[str, AgentBrowser]) -> None:
    """Duplicate makes a new topic from the same source; delete stops serving one."""
    sam = staff["sam"]
    copied = await sam.act("/workspace/topics/serial_number/duplicate", {"new_id": "serial_2"})
    assert copied.status_code == 303
    original = await desk.scalar(
        "SELECT v.source FROM topic_versions v JOIN topics t ON t.id = v.topic_id "
        "AND t.published = v.version WHERE t.id = 'serial_number'"
    )
    assert await desk.scalar("SELECT draft FROM topics WHERE id = 'serial_2'") == original
    taken = await sam.act("/workspace/topics/new", {"topic_id": "serial_2"})
    assert taken.status_code == 409
    assert "There is already a topic" in taken.text
    deleted = await sam.act("/workspace/topics/serial_number/unpublish")
    assert deleted.status_code == 303
    assert await desk.scalar("SELECT published FROM topics WHERE id = 'serial_number'") is None
