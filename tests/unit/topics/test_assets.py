"""A topic's images and scripts on in-memory tables: uploads, checks, use, runs."""

from __future__ import annotations

import pytest

from tests.images import bomb_png, photo
from tests.topic_sources import PLAIN_ROUTER, ROUTER
from textdesk.adapters.image_checks import PillowImageChecker
from textdesk.testing.clock import FixedClock
from textdesk.testing.topics import TopicTables, fake_topics
from textdesk.topics.assets import AssetRefused, TopicAssets
from textdesk.topics.library import InvalidTopic, TopicLibrary

PASSES = """\
name: Router, happy path
steps:
  - say: router
    expect: [power button is on the back, ten seconds]
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


def assets(
    tables: TopicTables | None = None, *, max_bytes: int = 1024 * 1024
) -> tuple[TopicAssets, TopicLibrary, TopicTables]:
    tables = tables or TopicTables()
    clock = FixedClock()
    library = TopicLibrary(fake_topics(tables), clock)
    made = TopicAssets(
        fake_topics(tables),
        clock,
        library=library,
        images=PillowImageChecker(),
        max_bytes=max_bytes,
        max_pixels=25_000_000,
    )
    return made, library, tables


async def test_an_image_node_names_an_uploaded_image_and_it_cannot_go_while_used() -> None:
    """The draft naming topics/router/back.png is refused until the image is there;
    then deleting or replacing the image is refused while the topic uses it."""
    store, library, tables = assets()
    await library.save_draft("router", PLAIN_ROUTER, by="Ada")
    with pytest.raises(InvalidTopic, match=r"topics/router/back\.png"):
        await library.save_draft("router", ROUTER, by="Ada")
    stored = await store.upload_image("router", "back.png", photo(), by="Ada")
    assert (stored.content_type, stored.size) == ("image/png", len(photo()))
    await library.save_draft("router", ROUTER, by="Ada")
    await library.publish("router", by="Ada")

    with pytest.raises(AssetRefused, match=r"router \(published\) uses this image"):
        await store.delete("router", "image", "back.png", by="Ada")
    with pytest.raises(AssetRefused, match="Not replaced"):
        await store.upload_image("router", "back.png", photo(8, 8), by="Ada")
    assert tables.assets[("router", "image", "back.png")].data == photo()

    await library.save_draft("router", PLAIN_ROUTER, by="Ada")
    await library.publish("router", by="Ada")
    await store.delete("router", "image", "back.png", by="Ada")
    assert tables.assets == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "not a JPEG, PNG, GIF or WebP image"),
        (b"", "the file is empty"),
        (b"\x00" * 512, "not a JPEG, PNG, GIF or WebP image"),
        (photo(64, 64)[:-30], "damaged or cut short"),
        (bomb_png(20_000, 20_000), "more than 25 megapixels"),
        (b"\x89PNG" + b"0" * 2_000_000, "larger than 1 MB"),
    ],
    ids=["pdf-named-png", "empty", "nul-bytes", "truncated", "pixel-bomb", "too-large"],
)
async def test_a_hostile_upload_is_refused_with_why_and_nothing_is_stored(
    data: bytes, message: str
) -> None:
    store, library, tables = assets()
    await library.save_draft("router", PLAIN_ROUTER, by="Ada")
    with pytest.raises(AssetRefused, match=message):
        await store.upload_image("router", "back.png", data, by="Ada")
    assert tables.assets == {}


async def test_a_script_with_a_mistake_is_refused_naming_its_line() -> None:
    store, library, tables = assets()
    await library.save_draft("router", PLAIN_ROUTER, by="Ada")
    typo = PASSES.replace("expect_media", "expcet_media")
    with pytest.raises(AssetRefused) as refused:
        await store.save_script("router", "happy", typo, by="Ada")
    assert refused.value.errors == [
        "happy.yaml:5: steps[0].expcet_media: unknown field (a typo?); did you mean 'expect_media'?"
    ]
    with pytest.raises(AssetRefused, match="no double underscore"):
        await store.save_script("router", "a__b", PASSES, by="Ada")
    assert tables.assets == {}


async def test_the_scripts_run_against_the_draft_and_say_which_step_failed() -> None:
    """Run against the editor's text, not what is published: one passes, one fails
    at its second step with what was expected and what the agent said."""
    store, library, _ = assets()
    await library.save_draft("router", PLAIN_ROUTER, by="Ada")
    await library.publish("router", by="Ada")
    await store.upload_image("router", "back.png", photo(), by="Ada")
    await store.save_script("router", "happy", PASSES, by="Ada")
    await store.save_script("router", "wrong", FAILS, by="Ada")

    run = await store.run_scripts("router", ROUTER)
    assert (run.passed, run.failed, run.errors) == (1, 1, [])
    happy, wrong = run.results
    assert happy.ok
    assert wrong.failed_step is not None
    assert wrong.failed_step.number == 2
    assert wrong.failed_step.failures == ('expected "You\'re welcome"',)

    broken = await store.run_scripts("router", ROUTER.replace("back.png", "front.png"))
    assert broken.results == []
    assert "topics/router/front.png" in str(broken.errors[0])
