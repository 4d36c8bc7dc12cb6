"""Conversation scripts: a topic designer's tests, run with no database and no server.

A script is a YAML file that tells one conversation: what the texter sends, step by
step, and what the virtual agent must (or must not) answer.  ``textdesk topics test``
runs every script of a folder against a topic folder, with the outside world in
memory (``script_world``), and reports each failing step with its ``file:line``, the
expectation that failed and what the agent really said::

    name: Report an issue, happy path    # shown in reports (default: the file name)
    texter:                              # who texts (default: an account, no name)
      phone: "+15551230001"
      name: Alice Example                # accounts only: guests are unknown numbers
      account: true                      # false: a guest
    agents_available: false              # true: transfers are queued (2 min wait)
    records:                             # the texter's records: INC0010001, INC0010002...
      - {short_description: VPN drops, state: New, urgency: 2}
    steps:
      - say: hi
        expect: ["Report an issue", "/Hi Alice/"]
      - say: "1"
        expect: what's the problem
      - media: [image/png]               # an attachment, by content type
        expect: YES or NO
      - say: yes
        expect: "/INC\\d{7}/"
        not_expect: Sorry
      - restart: true                    # as after a server restart
      - say: hi
        wait: 150m                       # time since the step before (default 1m)
        expect: Welcome back

Keys of a step:

- ``say``: the text sent.  Plain YAML scalars stay text here: ``say: yes`` sends
  "yes" and ``say: 1`` sends "1" (YAML would otherwise read them as true and 1).
- ``media``: content types of attachments.  ``image/*`` is received (an ``att/N``
  key); anything else is refused as not an image.  ``say`` may then be left out.
- ``wait``: time since the previous step, as ``90s``, ``150m``, ``2h``, ``1h30m`` or
  ``1d``; without it the clock moves one minute (the idle close is two hours).
- ``expect``: one expectation or a list; each is a substring or a ``/regex/``
  (``/regex/i`` ignores case), searched in the replies joined by newlines.  All
  must match.  ``not_expect``: likewise, and none may match.
- ``expect_media``: ``true``: a reply carries an image (MMS); ``false``: none does.
- ``expect_silence``: ``true``: the virtual agent says nothing (a live agent has the
  conversation).
- ``restart: true`` (alone): the state goes to JSON and back and a new engine takes
  over, as when the server restarts between two texts.

A script stops at its first failing step: the steps after it would fail in its wake.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import yaml
from pydantic import ValidationError

from textdesk.channel.effects import EffectRunner, settle
from textdesk.domain.agent.engine import Engine
from textdesk.domain.agent.messages import InboundText, MediaRef, Reply
from textdesk.domain.agent.state import ConversationState
from textdesk.domain.topics.schema import TopicSet
from textdesk.topic_tools.script_format import ScriptSpec, StepSpec, describe, matches, suggest
from textdesk.topic_tools.script_world import ScriptWorld
from textdesk.topic_tools.topic_files import locate

__all__ = [
    "START",
    "Script",
    "ScriptFileError",
    "ScriptResult",
    "StepResult",
    "default_scripts_dir",
    "find_scripts",
    "load_script",
    "parse_script",
    "play_script",
    "run_script",
    "run_scripts",
]

START = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)  # a Monday morning: the scripts' clock
_STEP_GAP = timedelta(minutes=1)


class ScriptFileError(Exception):
    """A script that cannot be run; ``errors`` lists each ``file:line: field: message``."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True)
class Script:
    """A validated script and the line of each of its steps."""

    path: Path
    spec: ScriptSpec
    lines: tuple[int, ...]

    @property
    def name(self) -> str:
        return self.spec.name or self.path.stem


@dataclass(frozen=True)
class StepResult:
    """One step as run: what was sent, what came back, and any unmet expectation."""

    number: int  # 1-based
    line: int
    step: StepSpec
    replies: tuple[Reply, ...] = ()
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def label(self) -> str:
        """``say "yes"``, ``send image/png``, ``restart``: the step as a reader knows it."""
        if self.step.restart:
            return "restart"
        parts = [f"say {json.dumps(self.step.say)}"] if self.step.say else []
        if self.step.media:
            parts.append(f"send {', '.join(self.step.media)}")
        return " + ".join(parts) or 'say ""'


@dataclass(frozen=True)
class ScriptResult:
    """The outcome of one script file: its steps as run, or why it could not run."""

    path: Path
    name: str
    steps: tuple[StepResult, ...] = ()
    total: int = 0  # steps in the script; those after a failure are not run
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors and all(s.ok for s in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if not s.ok), None)

    def explain(self) -> list[str]:
        """What went wrong, as lines: ``file:line: step N (say "x"): expected ...``."""
        if self.errors:
            return list(self.errors)
        step = self.failed_step
        if step is None:
            return []
        where = f"{self.path.name}:{step.line}: step {step.number} ({step.label})"
        lines = [f"{where}: {failure}" for failure in step.failures]
        lines.append("  the virtual agent said:" if step.replies else "  the agent said nothing")
        for reply in step.replies:
            body = reply.body + (f"  [media: {', '.join(reply.media)}]" if reply.media else "")
            lines.extend(f"    {line}" for line in body.splitlines() or [""])
        return lines


# --- reading ------------------------------------------------------------------------


class _TextLoader(yaml.SafeLoader):
    """YAML whose plain scalars stay text (``yes``, ``1``, ``on``); only null is typed.

    A script quotes what texters type, and YAML 1.1 would turn ``say: yes`` into
    ``True``; Pydantic still reads ``account: true`` or ``urgency: 2`` from the text.
    """


_KEPT_TAGS = ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")
_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in _KEPT_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_script(path: Path) -> Script:
    """Read and validate one script; raises ``ScriptFileError`` naming file, line and field."""
    return parse_script(path, path.read_text(encoding="utf-8"))


def parse_script(path: Path, text: str) -> Script:
    """Validate a script's ``text`` (a topic's stored script: ``path`` names it only)."""
    loader = _TextLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ScriptFileError([f"{path.name}:{line}: YAML syntax: {exc.problem or exc}"]) from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ScriptFileError([f"{path.name}:1: expected a mapping with steps"])
    try:
        spec = ScriptSpec.model_validate(data)
    except ValidationError as exc:
        raise ScriptFileError(_errors(path, root, exc)) from exc
    return Script(path, spec, _step_lines(root))


def _step_lines(root: yaml.Node | None) -> tuple[int, ...]:
    steps = next((v for k, v in root.value if k.value == "steps"), None) if root else None
    return tuple(n.start_mark.line + 1 for n in steps.value) if steps else ()


def _errors(path: Path, root: yaml.Node | None, exc: ValidationError) -> list[str]:
    out = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        line, shown = locate(root, loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        if error["type"] == "extra_forbidden":
            message = "unknown field (a typo?)" + suggest(str(loc[-1]))
        where = f"{shown}: " if shown else ""
        out.append(f"{path.name}:{line}: {where}{message}")
    return out


def find_scripts(path: Path) -> list[Path]:
    """The script files ``path`` names: itself, or the ``*.yaml``/``*.yml`` in it."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def default_scripts_dir(topics_dir: Path) -> Path:
    """``scripts`` beside the topic folder if there is one, else inside it."""
    beside = topics_dir.parent / "scripts"
    return beside if beside.is_dir() else topics_dir / "scripts"


# --- running ------------------------------------------------------------------------


def run_scripts(paths: list[Path], topics: TopicSet, *, zone: tzinfo = UTC) -> list[ScriptResult]:
    """Run each script file; one that cannot be read gives a result with its errors.

    ``zone`` is the desk's timezone, in which records show their dates.
    """
    return asyncio.run(_play_all(paths, topics, zone))


async def _play_all(paths: list[Path], topics: TopicSet, zone: tzinfo) -> list[ScriptResult]:
    results = []
    for path in paths:
        try:
            script = load_script(path)
        except ScriptFileError as exc:
            results.append(ScriptResult(path, path.stem, errors=tuple(exc.errors)))
            continue
        results.append(await play_script(script, topics, zone=zone))
    return results


def run_script(script: Script, topics: TopicSet, *, zone: tzinfo = UTC) -> ScriptResult:
    """Play ``script`` against ``topics``, stopping at the first failing step."""
    return asyncio.run(play_script(script, topics, zone=zone))


async def play_script(script: Script, topics: TopicSet, *, zone: tzinfo = UTC) -> ScriptResult:
    """:func:`run_script` for a caller already in an event loop.

    Effects go through production's runner, with the world in memory, so a script
    passes exactly when the desk would answer the same.
    """
    spec = script.spec
    texter = spec.texter.as_texter()
    now = START
    world = ScriptWorld(texter, now=now, agents_available=spec.agents_available, zone=zone)
    for record in spec.records:
        world.add_record(**record.model_dump())
    runner = EffectRunner(views=world)
    engine = Engine(topics)
    state: ConversationState | None = None
    done: list[StepResult] = []
    for number, (step, line) in enumerate(zip(spec.steps, script.lines, strict=True), 1):
        if step.restart:
            state = _restarted(state)
            engine = Engine(topics)
            done.append(StepResult(number, line, step))
            continue
        now += step.wait or _STEP_GAP
        world.now = now
        media = tuple(
            MediaRef(f"https://media.example/{number}/{i}", content_type)
            for i, content_type in enumerate(step.media)
        )
        inbound = InboundText(step.say or "", media, received_at=now)
        try:
            first = engine.handle(state, inbound, texter, now)
            settled = (await settle(engine, first, runner, world.scope(media))).step
        except Exception as exc:
            # A designer's tool reports a crash like any failure, at the step it hit.
            done.append(StepResult(number, line, step, failures=(f"the agent crashed: {exc!r}",)))
            break
        state = settled.state
        result = StepResult(number, line, step, settled.replies, _check(step, settled.replies))
        done.append(result)
        if not result.ok:
            break
    return ScriptResult(script.path, script.name, tuple(done), len(spec.steps))


def _restarted(state: ConversationState | None) -> ConversationState | None:
    """The state as the server stores it (JSON) and reads it back."""
    if state is None:
        return None
    return ConversationState.from_dict(json.loads(json.dumps(state.to_dict())))


def _check(step: StepSpec, replies: tuple[Reply, ...]) -> tuple[str, ...]:
    said = "\n".join(r.body for r in replies)
    failures = [f"expected {describe(e)}" for e in step.expect if not matches(e, said)]
    failures += [f"did not expect {describe(e)}" for e in step.not_expect if matches(e, said)]
    with_media = any(r.media for r in replies)
    if step.expect_media is True and not with_media:
        failures.append("expected an image (MMS) in the replies")
    if step.expect_media is False and with_media:
        failures.append("expected no image in the replies")
    if step.expect_silence and replies:
        failures.append("expected no reply")
    return tuple(failures)
