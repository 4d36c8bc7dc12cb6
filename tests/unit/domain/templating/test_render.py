"""Sandboxed templates: shorthand, undefined names, conditions, caching, safety."""

from __future__ import annotations

import pytest
from jinja2 import TemplateSyntaxError

from textdesk.domain.templating.render import (
    compile_expression,
    compile_template,
    evaluate,
    expand_shorthand,
    render,
    render_value,
    truthy,
)


def test_shorthand_reads_record_fields() -> None:
    """${field} (dotted too) is {{ record.field }}."""
    assert expand_shorthand("${number} for ${ assigned_to.name }") == (
        "{{ record.number }} for {{ record.assigned_to.name }}"
    )
    record = {"number": "INC1", "assigned_to": {"name": "Bob"}}
    assert render("${number} is with ${assigned_to.name}", {"record": record}) == (
        "INC1 is with Bob"
    )


def test_undefined_names_render_empty_even_when_chained() -> None:
    """Missing variables and attributes of missing variables render as nothing."""
    assert render("[{{ vars.missing.number }}]", {"vars": {}}) == "[]"
    assert evaluate("vars.missing.number", {"vars": {}}) is None


def test_conditions_accept_braces_and_default_to_true() -> None:
    """A condition may be wrapped in {{ }}; no condition holds; a failing one does not."""
    context = {"vars": {"n": 3}}
    assert truthy("vars.n > 2", context)
    assert truthy("{{ vars.n > 2 }}", context)
    assert truthy(None, context)
    assert not truthy("vars.n + 'x'", context)


def test_render_value_keeps_types_of_lone_expressions() -> None:
    """A lone {{ expression }} keeps its type; other strings render as text."""
    context = {"vars": {"c": {"value": "a", "label": "A"}, "n": 2}}
    assert render_value("{{ vars.c }}", context) == {"value": "a", "label": "A"}
    assert render_value("{{ vars.n * 2 }}", context) == 4
    assert render_value("n={{ vars.n }}", context) == "n=2"
    assert render_value(5, context) == 5


def test_templates_compile_once() -> None:
    """The same source gives the same compiled template and expression."""
    assert compile_template("Hi {{ vars.x }}") is compile_template("Hi {{ vars.x }}")
    assert compile_expression("vars.x") is compile_expression("vars.x")


def test_syntax_errors_raise_at_compile_time() -> None:
    """Bad syntax is a compile error (topic validation reports it)."""
    with pytest.raises(TemplateSyntaxError):
        compile_template("{{ vars.x ")


def test_sandbox_blocks_unsafe_access() -> None:
    """Templates cannot reach Python internals or mutate the context."""
    assert render("{{ vars.__class__.__mro__ }}", {"vars": {}}) == ""
    context = {"vars": {"items": [1]}}
    assert render("{{ vars['items'].append(2) }}", context) == ""
    assert context["vars"]["items"] == [1]


def test_a_filter_given_the_wrong_type_renders_empty() -> None:
    """A designer's ``{{ 1|wordwrap(1) }}`` is a typo like any other: empty, not a crash."""
    assert render("{{ 1|wordwrap(1) }}", {}) == ""
