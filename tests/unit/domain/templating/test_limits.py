"""Bounded templates: expensive ones are stopped quickly, ordinary ones render as before."""

from __future__ import annotations

import pytest
from jinja2 import ChainableUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.unit.domain.agent.chat_helpers import Chat, topic, topic_set
from textdesk.adapters.files.notification_files import PACKAGED_DIR, NotificationFiles
from textdesk.domain.templating.render import TemplateTooCostly, evaluate, expand_shorthand, render
from textdesk.domain.topics.settings import Texts

# The report's template: 113 characters, 64 million iterations on the event loop.
NESTED_LOOPS = (
    "{% for a in range(400) %}{% for b in range(400) %}{% for c in range(400) %}xy"
    "{% endfor %}{% endfor %}{% endfor %}"
)

COSTLY = {
    "string multiplication": "{{ 'x' * 10**9 }}",
    "list multiplication": "{{ [1, 2] * 10**8 }}",
    "a huge number": "{{ 2 ** 1000000 }}",
    "huge output": "{% for i in range(4000) %}{{ 'y' * 50 }}{% endfor %}",
    "printf width": "{{ '%999999999s' % 'x' }}",
    "format filter width": "{{ '%0999999999d'|format(1) }}",
    "str.format width": "{{ '{:>999999999}'.format(1) }}",
    "str.format nested width": "{{ '{:>{}}'.format(1, 999999999) }}",
    "center width": "{{ 'x'|center(999999999) }}",
    "ljust width": "{{ 'x'.ljust(999999999) }}",
    "join over a huge range": "{{ range(10**6)|join }}",
    "joins in a loop": "{% for i in range(4000) %}{{ range(4000)|join|length }}{% endfor %}",
    "replace blow-up": "{% set s = 'x' * 9000 %}{{ s|replace('x', s)|length }}",
    "indent blow-up": "{{ ('\\n' * 9000)|indent(9000)|length }}",
    "doubling in a namespace": (
        "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}"
    ),
    "shared references": "{% set a = [1] %}" + "{% set a = [a, a] %}" * 60 + "{{ a == a|list }}",
    "branching macro recursion": (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"
    ),
    "endless macro recursion": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "loops that filter everything out": (
        "{% for a in range(4000) %}{% for b in range(4000) if false %}{% endfor %}{% endfor %}"
    ),
    "a block that is never shown": (
        "{% set x %}{% for i in range(4000) %}{{ 'y' * 9000 }}{% endfor %}{% endset %}"
        "{{ x|length }}"
    ),
}


def test_the_reported_nested_loops_are_stopped() -> None:
    """Three nested loops over range(400) stop at the budget instead of running 64M times."""
    assert len(NESTED_LOOPS) == 113
    with pytest.raises(TemplateTooCostly, match="loop iterations"):
        render(NESTED_LOOPS, {})


@pytest.mark.parametrize("source", COSTLY.values(), ids=COSTLY.keys())
def test_costly_templates_are_stopped(source: str) -> None:
    """Every way found to spend time or memory is stopped with TemplateTooCostly."""
    with pytest.raises(TemplateTooCostly):
        render(source, {})


def test_a_costly_condition_is_stopped_too() -> None:
    """Expressions (conditions, set values) run under the same budget."""
    with pytest.raises(TemplateTooCostly):
        evaluate("range(10**6)|join|length > 0", {})


def test_mistakes_still_render_empty_but_costs_are_not_swallowed() -> None:
    """A designer's typo is still "", so the budget error is the only one reported."""
    assert render("{{ vars.n + 'x' }}", {"vars": {"n": 1}}) == ""
    with pytest.raises(TemplateTooCostly):
        render("{{ vars.n }}{{ 'x' * 10**9 }}", {"vars": {"n": 1}})


ORDINARY = [
    "${number} is now {{ record.state }}: {{ record.short_description|truncate(20) }}",
    "{% for o in vars.options %}{{ loop.index }}. {{ o.label|title }}\n{% endfor %}",
    "{% for o in vars.options if o.value != 'b' %}{{ o.value }}{% else %}none{% endfor %}",
    "{{ vars.options|map(attribute='label')|join(', ') }} ({{ vars.options|length }})",
    "{% set pairs = [('a', 1), ('b', 2)] %}{% for k, v in pairs %}{{ k }}={{ v }};{% endfor %}",
    "{{ {'x': vars.n, 'y': [vars.n, 2]} }} {{ (vars.n, 3) }} {{ [] }}",
    "{% macro row(o) %}[{{ o.value }}]{% endmacro %}{% for o in vars.options %}"
    "{{ row(o) }}{% endfor %}",
    "{{ '%s has %d' % (texter.name, vars.n) }} {{ '{}: {:>5}'.format('n', vars.n) }}",
    "{{ 'ab' * 3 }} {{ vars.n ** 2 }} {{ 'a' ~ vars.n ~ 'b' }} {{ [1] + [2] }}",
    "{{ '%-10s|'|format(texter.name) }} {{ texter.name|center(11) }}|{{ 'a b'|replace(' ', '_') }}",
    "{% set ns = namespace(total=0) %}{% for i in range(1, 11) %}{% set ns.total = ns.total + i %}"
    "{% endfor %}{{ ns.total }} {{ range(5)|sum }} {{ range(3)|list }}",
    "{{ vars.missing.number }}|{{ vars.n is divisibleby 3 }}|{{ texter.name|upper|default('?') }}",
]
CONTEXT = {
    "vars": {
        "n": 12,
        "options": [{"value": v, "label": f"option {v}"} for v in "abcdefghi"],
    },
    "texter": {"name": "Ana", "phone": "+15551230001"},
    "record": {"number": "INC0010001", "state": "New", "short_description": "Printer jams " * 4},
}
PLAIN = ImmutableSandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)


@pytest.mark.parametrize("source", ORDINARY)
def test_ordinary_templates_render_as_in_the_plain_sandbox(source: str) -> None:
    """Loops, macros, literals, filters and formatting give what Jinja2's sandbox gives."""
    expanded = expand_shorthand(source)
    assert render(source, CONTEXT) == PLAIN.from_string(expanded).render(CONTEXT)


@pytest.mark.parametrize("name", ["state_changed", "commented", "assigned"])
def test_packaged_notification_templates_render_as_before(name: str) -> None:
    """The shipped notification templates are well inside the budget."""
    source = NotificationFiles(PACKAGED_DIR).template(name)
    assert source is not None
    context = {**CONTEXT, "event": {"to": "Resolved", "author": "Dana", "body": "Done"}}
    expanded = expand_shorthand(source)
    assert render(source, context) == PLAIN.from_string(expanded).render(context)


def test_a_topic_whose_prompt_loops_too_much_answers_with_the_fallback() -> None:
    """The texter gets the error wording (AGENT or MENU), the step names the problem."""
    looping = topic(
        "looping",
        {"type": "message", "text": "Let me look."},
        {"type": "text", "prompt": NESTED_LOOPS, "var": "answer"},
        keywords=["loop"],
    )
    chat = Chat(topic_set(looping), state=None)
    replies = chat.send("loop")
    assert replies[-1].endswith(Texts().error)
    assert "Let me look." in replies[-1]
    assert chat.last is not None
    [problem] = chat.last.problems
    assert "'looping'" in problem
    assert "loop iterations" in problem
    assert chat.state is not None
    assert chat.state.topic_id is None
    assert chat.send("menu")[0].startswith("What can I help you with?")
