"""Conversation scripts and ``textdesk topics``: the designer's test tools, and their guide."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import textdesk
from textdesk.channel.effects import EffectRunner
from textdesk.cli.topics import topics_app
from textdesk.domain.agent.messages import (
    CreateRecord,
    Effect,
    EffectResult,
    FetchMedia,
    MediaRef,
    QueryRecords,
    Texter,
)
from textdesk.domain.records import Record
from textdesk.domain.topics.checks import validate_topics
from textdesk.domain.topics.schema import Topic, TopicSet, TopicSettings
from textdesk.topic_tools.script_format import parse_duration
from textdesk.topic_tools.script_runner import (
    START,
    ScriptFileError,
    default_scripts_dir,
    find_scripts,
    load_script,
    run_script,
    run_scripts,
)
from textdesk.topic_tools.script_world import ScriptWorld
from textdesk.topic_tools.topic_files import load_topics

PACKAGE = Path(textdesk.__file__).parent
DEMO_TOPICS = PACKAGE / "demo" / "topics"
DEMO_SCRIPTS = PACKAGE / "demo" / "scripts"
GUIDE = PACKAGE.parent.parent / "docs" / "topics.md"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo() -> TopicSet:
    return load_topics(DEMO_TOPICS)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the demo scripts ---------------------------------------------------------------


@pytest.mark.parametrize("path", find_scripts(DEMO_SCRIPTS), ids=lambda p: p.stem)
def test_demo_script_passes(demo: TopicSet, path: Path) -> None:
    """Every shipped script passes against the shipped topics."""
    result = run_script(load_script(path), demo)
    assert result.ok, "\n".join(result.explain())
    assert len(result.steps) == result.total


def test_demo_scripts_start_every_menu_topic(demo: TopicSet) -> None:
    """Between them the demo scripts go through each demo topic a texter can pick."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in find_scripts(DEMO_SCRIPTS))
    for topic in demo.menu_topics(guest=False):
        assert topic.title in text or topic.id in text, topic.id


# --- running and reporting ----------------------------------------------------------


def test_failing_expectation_names_file_line_and_reply(demo: TopicSet, tmp_path: Path) -> None:
    """A failure gives file:line of the step, the expectation and what the agent said."""
    path = write(
        tmp_path,
        "wrong.yaml",
        "steps:\n"
        "  - say: hi\n"
        "    expect: Report an issue\n"
        "  - say: '1'\n"
        "    expect: [what's the problem, Tell me everything]\n"
        "  - say: never sent\n",
    )
    result = run_script(load_script(path), demo)
    assert not result.ok
    assert (len(result.steps), result.total) == (2, 3)
    lines = result.explain()
    assert lines[0] == 'wrong.yaml:4: step 2 (say "1"): expected "Tell me everything"'
    assert "    In a few words, what's the problem?" in lines


@pytest.mark.parametrize(
    ("step", "failure"),
    [
        ("{say: hi, expect: '/hi ALICE/'}", "expected /hi ALICE/"),
        ("{say: hi, not_expect: '/report an/i'}", "did not expect /report an/i"),
        ("{say: hi, expect_media: true}", "expected an image (MMS) in the replies"),
        ("{say: hi, expect_silence: true}", "expected no reply"),
    ],
)
def test_each_kind_of_expectation_can_fail(
    demo: TopicSet, tmp_path: Path, step: str, failure: str
) -> None:
    """Regexes (with /i), not_expect, expect_media and expect_silence all check."""
    path = write(tmp_path, "s.yaml", f"texter: {{name: Alice}}\nsteps:\n  - {step}\n")
    [ran] = run_script(load_script(path), demo).steps
    assert ran.failures == (failure,)


def test_plain_yaml_scalars_are_sent_as_typed(demo: TopicSet, tmp_path: Path) -> None:
    """`say: yes`, `say: 1` and `say: on` send the text, not YAML's true and 1."""
    path = write(tmp_path, "s.yaml", "steps:\n  - say: yes\n  - say: 1\n  - say: on\n")
    assert [s.say for s in load_script(path).spec.steps] == ["yes", "1", "on"]


def test_a_crash_is_reported_at_its_step(tmp_path: Path) -> None:
    """A topic that loops through effects fails its step instead of raising."""
    looping = Topic.model_validate(
        {
            "id": "loop",
            "title": "Loop",
            "keywords": ["loop"],
            "nodes": [
                {"id": "a", "type": "create_record", "fields": {"short_description": "x"}},
                {"type": "goto", "goto": "a"},
            ],
        }
    )
    topics = TopicSet(topics=[looping], settings=TopicSettings(greeting_topic=None))
    path = write(tmp_path, "s.yaml", "steps:\n  - say: loop\n")
    [ran] = run_script(load_script(path), topics).steps
    assert ran.failures[0].startswith("the agent crashed: RuntimeError")


def test_unreadable_scripts_become_failed_results(demo: TopicSet, tmp_path: Path) -> None:
    """run_scripts reports a malformed file as a failed result, not an exception."""
    path = write(tmp_path, "broken.yaml", "steps: [say: hi\n")
    [result] = run_scripts([path], demo)
    assert not result.ok
    assert result.explain()[0].startswith("broken.yaml:2: YAML syntax:")


# --- validation of script files -----------------------------------------------------


def test_malformed_script_is_refused_naming_line_and_field(tmp_path: Path) -> None:
    """Typos, bad durations, regexes and contradictions are named with file:line."""
    path = write(
        tmp_path,
        "typo.yaml",
        "texter: {account: false, name: Bob}\n"
        "records:\n"
        "  - {short_description: x, state: Opened}\n"
        "steps:\n"
        "  - say: hi\n"
        "    expcet: Report\n"
        "  - {say: hi, wait: 3 weeks}\n"
        "  - {restart: true, say: hi}\n"
        "  - {say: hi, expect: '/(unclosed/'}\n"
        "  - {media: [pdf]}\n",
    )
    with pytest.raises(ScriptFileError) as caught:
        load_script(path)
    errors = caught.value.errors
    assert errors[0].startswith("typo.yaml:1: texter: a guest (account: false) has no name")
    assert errors[1].startswith("typo.yaml:3: records[0].state: state must be one of")
    assert errors[2:4] == [
        "typo.yaml:6: steps[0].expcet: unknown field (a typo?); did you mean 'expect'?",
        "typo.yaml:7: steps[1].wait: '3 weeks' is not a duration like 90s, 150m, 2h or 1h30m",
    ]
    assert errors[4].startswith("typo.yaml:8: steps[2]: a restart step takes no other keys")
    assert errors[5].startswith("typo.yaml:9: steps[3].expect: /(unclosed/: invalid regular")
    assert errors[6] == "typo.yaml:10: steps[4].media: 'pdf' is not a content type like image/png"


def test_script_needs_steps(tmp_path: Path) -> None:
    """A file without steps is refused under the field's name."""
    with pytest.raises(ScriptFileError) as caught:
        load_script(write(tmp_path, "empty.yaml", "name: nothing\n"))
    assert caught.value.errors == ["empty.yaml:1: steps: field required"]


def test_waits_read_as_seconds_minutes_hours_days_and_mixes() -> None:
    """Waits read as seconds, minutes, hours, days and mixes of them."""
    assert parse_duration("150m").total_seconds() == 9000
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("1d").total_seconds() == 86400
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("")


# --- the in-memory world ------------------------------------------------------------


def answer(world: ScriptWorld, effect: Effect, media: tuple[MediaRef, ...] = ()) -> EffectResult:
    """What production's effect runner answers in ``world``, for a text with ``media``."""
    return asyncio.run(EffectRunner(views=world).run(effect, world.scope(media)))


def test_world_shows_only_the_texters_open_records_newest_first() -> None:
    """Records are numbered from INC0010001 and listed in Record.as_dict's shape."""
    world = ScriptWorld(Texter("+15551230001", user_id=1, name="Alice"), now=START)
    world.add_record(short_description="VPN drops")
    world.add_record(short_description="Old", state="Resolved")
    world.add_record(short_description="Printer jams", urgency="High")
    found = answer(world, QueryRecords("my_open_incidents")).value
    assert [r["number"] for r in found] == ["INC0010003", "INC0010001"]
    assert set(found[0]) == set(world.records[0].as_dict())
    assert found[0]["url"] == "https://desk.example/r/INC0010003"
    assert isinstance(world.records[0], Record)


def test_world_creates_records_and_refuses_non_images() -> None:
    """CreateRecord numbers on; FetchMedia keeps images only, else not_image."""
    world = ScriptWorld(Texter("+15559870000"), now=START)
    created = answer(
        world, CreateRecord({"short_description": "Wi-Fi down", "urgency": "2"}, ("att/1",))
    )
    assert (created.value["number"], created.value["attachments"]) == ("INC0010001", 1)
    assert created.value["caller"] == "+15559870000"
    only_pdf = (MediaRef("u", "application/pdf"),)
    pdf = answer(world, FetchMedia(only_pdf), only_pdf)
    assert (pdf.ok, pdf.error) == (False, "not_image")
    mixed = (MediaRef("u", "application/pdf"), MediaRef("v", "image/png"))
    photos = answer(world, FetchMedia(mixed), mixed)
    assert photos.value == ["att/1"]
    assert [(r.content_type, r.error) for r in photos.refused] == [("application/pdf", "not_image")]


# --- the command line ---------------------------------------------------------------


def test_cli_validate_demo_is_clean() -> None:
    """`topics validate` on the demo folder exits 0."""
    result = runner.invoke(topics_app, ["validate", str(DEMO_TOPICS)])
    assert result.exit_code == 0, result.output
    assert "no errors" in result.output


def test_cli_validate_broken_folder_names_file_and_line(tmp_path: Path) -> None:
    """`topics validate` on a broken topic exits 1 naming file:line and field."""
    write(tmp_path, "bad.yaml", "title: Bad\nnodes:\n  - type: text\n    promt: Hi?\n    var: x\n")
    result = runner.invoke(topics_app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "bad.yaml:4: nodes[0].promt: unknown field" in result.output
    assert "bad.yaml:3: nodes[0].prompt: field required" in result.output


def test_cli_validate_warnings_do_not_fail(tmp_path: Path) -> None:
    """Warnings (a UCS-2 text) are printed and the exit code stays 0."""
    write(tmp_path, "_settings.yaml", "greeting_topic: null\nfallback_topic: null\n")
    write(tmp_path, "t.yaml", "title: T\nnodes:\n  - {type: message, text: Hello 😀}\n")
    result = runner.invoke(topics_app, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "t.yaml:3: nodes[0].text: is sent as UCS-2" in result.output
    assert "1 warning" in result.output


@pytest.mark.parametrize(("args", "title"), [([], "textdesk topic"), (["--settings"], None)])
def test_cli_schema_prints_json_schema(args: list[str], title: str | None) -> None:
    """`topics schema` prints valid JSON Schema for topics (or settings)."""
    result = runner.invoke(topics_app, ["schema", *args])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"].endswith("2020-12/schema")
    assert title is None or schema["title"] == title
    assert ("greeting_topic" in schema["properties"]) == bool(args)


def test_cli_test_demo_passes() -> None:
    """`topics test` on the demo finds demo/scripts beside it and exits 0."""
    result = runner.invoke(topics_app, ["test", str(DEMO_TOPICS)])
    assert result.exit_code == 0, result.output
    assert f"{len(find_scripts(DEMO_SCRIPTS))} passed, 0 failed" in result.output


def test_cli_test_broken_script_fails(tmp_path: Path) -> None:
    """A failing script is marked ✗ with its details and the exit code is 1."""
    write(tmp_path, "no.yaml", "name: Wrong\nsteps:\n  - say: hi\n    expect: Goodbye\n")
    result = runner.invoke(topics_app, ["test", str(DEMO_TOPICS), "--scripts", str(tmp_path)])
    assert result.exit_code == 1
    assert "✗ Wrong" in result.output
    assert 'no.yaml:3: step 1 (say "hi"): expected "Goodbye"' in result.output
    assert "0 passed, 1 failed" in result.output


def test_cli_test_without_scripts_or_topics_fails(tmp_path: Path) -> None:
    """No scripts to run, or topics that don't load, exit 1 saying so."""
    no_scripts = runner.invoke(topics_app, ["test", str(DEMO_TOPICS), "--scripts", str(tmp_path)])
    assert (no_scripts.exit_code, "no scripts" in no_scripts.output) == (1, True)
    write(tmp_path, "bad.yaml", "title: Bad\nnodes: 3\n")
    broken = runner.invoke(topics_app, ["test", str(tmp_path)])
    assert (broken.exit_code, "bad.yaml:2: nodes" in broken.output) == (1, True)


def test_default_scripts_folder(tmp_path: Path) -> None:
    """Scripts are looked for beside the topic folder, else inside it."""
    topics = tmp_path / "topics"
    topics.mkdir()
    assert default_scripts_dir(topics) == topics / "scripts"
    (tmp_path / "scripts").mkdir()
    assert default_scripts_dir(topics) == tmp_path / "scripts"


# --- the designer's guide is true ---------------------------------------------------

_BLOCK_RE = re.compile(r"```yaml (topic|nodes|settings|script)\n(.*?)```", re.DOTALL)
GUIDE_BLOCKS = _BLOCK_RE.findall(GUIDE.read_text(encoding="utf-8")) if GUIDE.exists() else []


@pytest.mark.skipif(not GUIDE.exists(), reason="docs/ is not shipped in the package")
@pytest.mark.parametrize(("kind", "source"), GUIDE_BLOCKS)
def test_guide_example_is_valid(demo: TopicSet, tmp_path: Path, kind: str, source: str) -> None:
    """Every YAML example in docs/topics.md loads, checks clean, and scripts pass."""
    if kind == "script":
        result = run_script(load_script(write(tmp_path, "example.yaml", source)), demo)
        assert result.ok, "\n".join(result.explain())
        return
    data = yaml.safe_load(source)
    if kind == "settings":
        TopicSettings.model_validate(data)
        return
    if kind == "nodes":
        data = {"title": "Example", "nodes": data}
    topic = Topic.model_validate({"id": "example", **data})
    problems = validate_topics(TopicSet(topics=[*demo.topics, topic]))
    assert [str(p) for p in problems if p.topic_id == "example"] == []
