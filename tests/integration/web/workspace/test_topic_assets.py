"""A topic's images and scripts in the designer over HTTP: uploads and their refusals,
images in use, scripts checked and run on the draft, /media serving them, roles, CSRF."""

from __future__ import annotations

import re

import pytest

from tests.images import bomb_png, photo
from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone
from tests.integration.workspace_helpers import AgentBrowser
from tests.topic_sources import PLAIN_ROUTER, ROUTER

PASSES = """\
name: Router, happy path
steps:
  - say: router
    expect: ten seconds
    expect_media: true
"""
FAILS = """\
name: Router, wrong words
steps:
  - say: router
    expect: ten seconds
  - say: thanks
    expect: You're welcome
"""
PNG = photo(8, 6)


async def _router(sam: AgentBrowser, desk: Desk) -> None:
    made = await sam.act("/workspace/topics/new", {"topic_id": "router"})
    assert made.status_code == 303, made.text
    revision = await desk.scalar("SELECT revision FROM topics WHERE id = 'router'")
    saved = await sam.act(
        "/workspace/topics/router/draft", {"source": PLAIN_ROUTER, "revision": str(revision)}
    )
    assert saved.status_code == 200, saved.text


async def _upload(sam: AgentBrowser, name: str, data: bytes, kind: str = "image/png") -> str:
    answer = await sam.act("/workspace/topics/router/images", files={"file": (name, data, kind)})
    return f"{answer.status_code} {answer.text}"


async def _stored(desk: Desk) -> list[tuple[str, str, int]]:
    rows = await desk.rows("SELECT kind, name, size FROM topic_assets ORDER BY kind, name")
    return [(r.kind, r.name, r.size) for r in rows]


async def test_an_uploaded_image_is_listed_served_sent_and_kept_while_used(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """Upload → the pane lists its key and size with a signed thumbnail that /media
    serves; a published topic naming it sends it by MMS; deleting it is refused."""
    sam = staff["sam"]
    await _router(sam, desk)
    answer = await _upload(sam, "back.png", PNG)
    assert answer.startswith("200"), answer
    assert "name it in an image node as media: topics/router/back.png" in answer
    assert 'value="topics/router/back.png"' in answer
    assert f"{len(PNG)} B" in answer
    thumbnail = re.search(r'<img src="([^"]+)" alt="back.png"', answer)
    assert thumbnail is not None
    served = await sam.http.get(thumbnail.group(1))
    assert (served.status_code, served.headers["content-type"], served.content) == (
        200,
        "image/png",
        PNG,
    )

    revision = await desk.scalar("SELECT revision FROM topics WHERE id = 'router'")
    saved = await sam.act(
        "/workspace/topics/router/draft", {"source": ROUTER, "revision": str(revision)}
    )
    assert saved.status_code == 200, saved.text
    revision = await desk.scalar("SELECT revision FROM topics WHERE id = 'router'")
    published = await sam.act("/workspace/topics/router/publish", {"revision": str(revision)})
    assert published.status_code == 200, published.text

    async def sent_with_image() -> bool:
        await Phone(desk, TEXTER).say("router")
        rows = await desk.rows("SELECT media FROM outbox WHERE body LIKE '%power button%'")
        return any("topics/router/back.png" in str(r.media) for r in rows)

    await desk.eventually(sent_with_image, what="the topic's image sent by MMS")

    refused = await sam.act("/workspace/topics/router/images/back.png/delete")
    assert refused.status_code == 422
    assert "Not deleted: router (published) uses this image" in refused.text
    replaced = await _upload(sam, "back.png", photo(9, 9))
    assert replaced.startswith("422")
    assert "Not replaced" in replaced
    assert await _stored(desk) == [("image", "back.png", len(PNG))]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (20 * 1024 * 1024), "larger than 5 MB"),
        ("bomb.png", bomb_png(20_000, 20_000), "more than 25 megapixels"),
        ("fake.png", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n", "not a JPEG, PNG"),
        ("nul.png", b"\x00" * 4096, "not a JPEG, PNG"),
        ("empty.png", b"", "the file is empty"),
        ("../../etc/passwd.png", PNG, "Stored passwd.png"),
        ("notes.txt", PNG, "ending in .png, .jpg, .gif or .webp"),
    ],
    ids=["20MB", "20000x20000", "pdf-as-png", "nul-bytes", "empty", "path-in-name", "no-ext"],
)
async def test_a_hostile_upload_is_refused_with_a_clear_message_and_nothing_stored(
    desk: Desk, staff: dict[str, AgentBrowser], name: str, data: bytes, message: str
) -> None:
    sam = staff["sam"]
    await _router(sam, desk)
    answer = await _upload(sam, name, data)
    assert message in answer
    if message.startswith("Stored"):
        # A path in the file's name is dropped: only its last part names the image.
        assert await _stored(desk) == [("image", "passwd.png", len(PNG))]
        return
    assert answer.startswith("422"), answer
    assert await _stored(desk) == []


async def test_scripts_are_checked_saved_and_run_on_the_draft_step_by_step(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """A script with a typo is refused naming its line; the saved ones run on the
    editor's (unsaved) text: one passes, one fails showing expected and got."""
    sam = staff["sam"]
    await _router(sam, desk)
    typo = await sam.act(
        "/workspace/topics/router/scripts",
        {"name": "happy", "text": PASSES.replace("expect_media", "expcet_media")},
    )
    assert typo.status_code == 422
    assert "happy.yaml:5: steps[0].expcet_media: unknown field (a typo?)" in typo.text
    assert await _stored(desk) == []
    assert (await _upload(sam, "back.png", PNG)).startswith("200")
    for name, text in (("happy", PASSES), ("wrong", FAILS)):
        saved = await sam.act("/workspace/topics/router/scripts", {"name": name, "text": text})
        assert saved.status_code == 200, saved.text
    uploaded = await sam.act(
        "/workspace/topics/router/scripts",
        files={"file": ("from_file.yaml", PASSES.encode(), "application/yaml")},
    )
    assert "Saved script from_file." in uploaded.text
    edit = await sam.http.get("/workspace/topics/router/scripts/wrong")
    assert "You&#39;re welcome" in edit.text

    run = await sam.act("/workspace/topics/router/scripts/run", {"source": ROUTER})
    assert run.status_code == 200, run.text
    assert "2 passed, 1 failed" in run.text
    failure = run.text[run.text.index("Router, wrong words") :]
    assert "step 2 (line 5): say &#34;thanks&#34;" in failure
    assert "expected &#34;You&#39;re welcome&#34;" in failure
    assert "Got:" in failure
    # Against the saved draft (no image), the happy path fails its expect_media.
    plain = await sam.act("/workspace/topics/router/scripts/run", {"source": PLAIN_ROUTER})
    assert "expected an image (MMS) in the replies" in plain.text
    assert await desk.scalar("SELECT count(*) FROM outbox") == 0

    gone = await sam.act("/workspace/topics/router/scripts/wrong/delete")
    assert gone.status_code == 200
    assert [n for k, n, _ in await _stored(desk) if k == "script"] == ["from_file", "happy"]


async def test_an_agent_gets_403_and_every_post_needs_the_csrf_token(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    dana, sam = staff["dana"], staff["sam"]
    await _router(sam, desk)
    assert (await _upload(sam, "back.png", PNG)).startswith("200")
    assert (await dana.http.get("/workspace/topics/router/assets")).status_code == 403
    assert (await dana.http.get("/workspace/topics/router/scripts/x")).status_code == 403
    posts: list[tuple[str, dict[str, str], dict[str, tuple[str, bytes, str]] | None]] = [
        ("/workspace/topics/router/images", {}, {"file": ("other.png", PNG, "image/png")}),
        ("/workspace/topics/router/images/back.png/delete", {}, None),
        ("/workspace/topics/router/scripts", {"name": "s", "text": PASSES}, None),
        ("/workspace/topics/router/scripts/s/delete", {}, None),
        ("/workspace/topics/router/scripts/run", {"source": PLAIN_ROUTER}, None),
    ]
    for path, data, files in posts:
        assert (await dana.act(path, data, files=files)).status_code == 403, path
        assert (await sam.act(path, data, files=files, token="")).status_code == 403, path
    assert await _stored(desk) == [("image", "back.png", len(PNG))]
