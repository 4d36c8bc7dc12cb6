"""The designer's flow view and node forms over HTTP: drawn and edited on the page's
text, admins only, CSRF, refusals that say why and change nothing."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import Desk
from tests.integration.workspace_helpers import AgentBrowser

SOURCE = """\
title: Flow
keywords: [flowtest]
nodes:
  # ask first
  - type: text
    prompt: What is it about?
    var: about
  - id: done
    type: end
    message: Thanks, {{ vars.about }}.
"""


async def _topic(desk: Desk, sam: AgentBrowser) -> int:
    made = await sam.act("/workspace/topics/new", {"topic_id": "flowtest"})
    assert made.status_code == 303, made.text
    revision = int(await desk.scalar("SELECT revision FROM topics WHERE id = 'flowtest'"))
    saved = await sam.act(
        "/workspace/topics/flowtest/draft", {"source": SOURCE, "revision": str(revision)}
    )
    assert saved.status_code == 200, saved.text
    return int(await desk.scalar("SELECT revision FROM topics WHERE id = 'flowtest'"))


async def _draft(desk: Desk) -> str:
    return str(await desk.scalar("SELECT draft FROM topics WHERE id = 'flowtest'"))


async def test_the_flow_of_the_editor_text_has_its_boxes_arrows_errors_and_costs(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    sam = staff["sam"]
    await _topic(desk, sam)
    page = await sam.http.get("/workspace/topics/flowtest")
    assert 'id="tab-flow"' in page.text
    assert "/static/vendor/drawflow/drawflow.min.js" in page.text
    broken = (
        SOURCE.replace("    prompt: What is it about?\n", "")
        + "  - type: goto\n    goto: nowhere\n"
    )
    drawn = await sam.act("/workspace/topics/flowtest/flow", {"source": broken})
    assert drawn.status_code == 200
    view = drawn.json()["view"]
    assert [n["type"] for n in view["nodes"]] == ["text", "end", "goto"]
    assert [(e["key"], e["line"]) for e in view["nodes"][0]["errors"]] == [("prompt", 5)]
    assert [p["target_id"] for p in view["nodes"][2]["ports"] if p["dangling"]] == ["nowhere"]
    dangling = SOURCE + "  - type: goto\n    goto: nowhere\n"
    view = (await sam.act("/workspace/topics/flowtest/flow", {"source": dangling})).json()["view"]
    assert [e["key"] for e in view["nodes"][2]["errors"]] == ["goto"]
    costed = (await sam.act("/workspace/topics/flowtest/flow", {"source": SOURCE})).json()
    assert costed["view"]["nodes"][0]["costs"][0]["encoding"] == "GSM-7"
    unread = await sam.act("/workspace/topics/flowtest/flow", {"source": "nodes: ["})
    assert unread.json() == {"view": None, "message": unread.json()["message"]}
    assert "does not read" in unread.json()["message"]


async def test_edits_from_the_flow_view_answer_the_new_yaml_and_save_nothing(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    sam = staff["sam"]
    revision = await _topic(desk, sam)
    base = {"source": SOURCE, "revision": str(revision)}
    added = await sam.act(
        "/workspace/topics/flowtest/edit", {**base, "op": "add", "node_type": "goto", "at": "1"}
    )
    assert added.status_code == 200, added.text
    answer = added.json()
    assert "  - type: goto\n    goto: done\n" in answer["source"]
    assert [n["type"] for n in answer["view"]["nodes"]] == ["text", "goto", "end"]
    assert "# ask first" in answer["source"]
    connected = await sam.act(
        "/workspace/topics/flowtest/edit",
        {
            "source": answer["source"],
            "revision": str(revision),
            "op": "connect",
            "index": "1",
            "field": json.dumps(["goto"]),
            "target": "0",
        },
    )
    assert connected.status_code == 200, connected.text
    assert "goto: about" in connected.json()["source"]
    assert any("named 'about'" in s for s in connected.json()["said"])
    removed = await sam.act(
        "/workspace/topics/flowtest/edit", {**base, "op": "remove", "index": "0"}
    )
    assert removed.json()["said"] == ["This change dropped 1 comment: # ask first"]
    moved = await sam.act(
        "/workspace/topics/flowtest/edit", {**base, "op": "move", "index": "1", "to": "0"}
    )
    assert moved.json()["source"].index("type: end") < moved.json()["source"].index("type: text")
    assert await _draft(desk) == SOURCE


async def test_a_node_form_is_made_from_the_schema_and_saving_it_edits_the_yaml(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    sam = staff["sam"]
    revision = await _topic(desk, sam)
    form = await sam.act(
        "/workspace/topics/flowtest/node-form",
        {"source": SOURCE.replace("    var: about\n", ""), "index": "0"},
    )
    assert form.status_code == 200
    assert 'for="nf-prompt"' in form.text
    assert "The question texted to the texter." in form.text
    assert 'id="nf-var-err"' in form.text, "the missing var's error is beside its field"
    saved = await sam.act(
        "/workspace/topics/flowtest/edit",
        {
            "source": SOURCE,
            "revision": str(revision),
            "op": "form",
            "index": "0",
            "f.prompt": "What is it about, briefly?",
            "f.var": "about",
            "f.max_length": "80",
            "f.required": "true",  # a ticked box; an unticked one is not sent
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["source"] == SOURCE.replace(
        "What is it about?\n    var: about\n",
        "What is it about, briefly?\n    var: about\n    max_length: 80\n",
    )


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"op": "remove", "index": "1"}, "is where"),
        ({"op": "add", "node_type": "teleport"}, "no node type 'teleport'"),
        ({"op": "move", "index": "0", "to": "9"}, "nodes[9]"),
        ({"op": "connect", "index": "0", "field": '["prompt"]', "target": "1"}, "does not name"),
        ({"op": "connect", "index": "0", "field": "goto", "target": "1"}, "a JSON list"),
        ({"op": "form", "index": "0", "f.max_length": "lots"}, "a whole number"),
        ({"op": "explode"}, "no edit 'explode'"),
    ],
)
async def test_an_edit_that_cannot_be_made_says_why_and_changes_nothing(
    desk: Desk, staff: dict[str, AgentBrowser], fields: dict[str, str], words: str
) -> None:
    sam = staff["sam"]
    revision = await _topic(desk, sam)
    source = SOURCE + "  - type: goto\n    goto: done\n"
    refused = await sam.act(
        "/workspace/topics/flowtest/edit", {"source": source, "revision": str(revision), **fields}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("Not changed: ")
    assert words in refused.json()["detail"]
    assert await _draft(desk) == SOURCE
    assert int(await desk.scalar("SELECT revision FROM topics WHERE id = 'flowtest'")) == revision


async def test_an_edit_from_a_page_opened_before_someone_saved_is_refused(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    sam, ada = staff["sam"], staff["ada"]
    revision = await _topic(desk, sam)
    theirs = SOURCE.replace("Thanks", "Cheers")
    saved = await ada.act(
        "/workspace/topics/flowtest/draft", {"source": theirs, "revision": str(revision)}
    )
    assert saved.status_code == 200
    stale = await sam.act(
        "/workspace/topics/flowtest/edit",
        {"source": SOURCE, "revision": str(revision), "op": "add", "node_type": "message"},
    )
    assert stale.status_code == 409
    assert "Ada Admin saved this topic since you opened it" in stale.json()["detail"]
    assert await _draft(desk) == theirs


async def test_only_admins_with_the_token_draw_and_edit(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    dana, sam = staff["dana"], staff["sam"]
    revision = await _topic(desk, sam)
    posts = [
        ("/workspace/topics/flowtest/flow", {"source": SOURCE}),
        ("/workspace/topics/flowtest/node-form", {"source": SOURCE, "index": "0"}),
        (
            "/workspace/topics/flowtest/edit",
            {"source": SOURCE, "revision": str(revision), "op": "add", "node_type": "end"},
        ),
    ]
    for path, data in posts:
        assert (await dana.act(path, data)).status_code == 403, path
        assert (await sam.act(path, data, token="")).status_code == 403, path
    assert await _draft(desk) == SOURCE
    missing = await sam.act(
        "/workspace/topics/nope/edit",
        {"source": SOURCE, "revision": "1", "op": "add", "node_type": "end"},
    )
    assert missing.status_code == 404


async def test_a_text_that_does_not_read_is_refused_for_edits_and_forms_saying_so(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    sam = staff["sam"]
    revision = await _topic(desk, sam)
    unread = SOURCE + "  - [unclosed\n"
    edit = await sam.act(
        "/workspace/topics/flowtest/edit",
        {"source": unread, "revision": str(revision), "op": "add", "node_type": "end"},
    )
    assert edit.status_code == 422
    assert "the YAML does not read" in edit.json()["detail"]
    form = await sam.act("/workspace/topics/flowtest/node-form", {"source": unread, "index": "0"})
    assert form.status_code == 422
    assert form.text == "No form: The YAML does not read."
    beyond = await sam.act("/workspace/topics/flowtest/node-form", {"source": SOURCE, "index": "7"})
    assert beyond.status_code == 422
    assert "the topic has 2 nodes" in beyond.text
    assert await _draft(desk) == SOURCE
