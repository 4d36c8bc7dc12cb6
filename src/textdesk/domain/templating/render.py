"""Sandboxed Jinja2 for designer-written text and conditions.

Topic files are written by service-desk designers, not programmers, and they may be
loaded from a shared folder, so templates run in Jinja2's immutable sandbox: they can
read the context but not call unsafe methods or mutate anything.  Every source string
is compiled once and cached; rendering a compiled template is cheap.

Names a template sees:

- ``vars``: the conversation variables (``{{ vars.category.label }}``);
- ``texter``: ``phone``, ``name``, ``user_id``, ``is_guest``;
- ``record``: the record in hand, where there is one (cards, notifications,
  dynamic-choice labels, where it is also called ``r``).

Shorthand: ``${field}`` stands for ``{{ record.field }}`` (dotted paths too:
``${assigned_to.name}``), so a card or notification reads like a mail merge:
``"${number} is now ${state}"``.

Undefined names render as the empty string and chain (``vars.missing.number`` is
empty, not an error): a texter who skipped a question must not crash the flow.

Every render and evaluation is bounded (see :mod:`textdesk.domain.templating.limits`):
one that passes its budget raises :class:`TemplateTooCostly`, which is not turned
into an empty string like a designer's typo, so the caller can say what happened
(a 422 for an API template, a logged error and a fallback text in a topic).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError

from textdesk.domain.templating.jinja_sandbox import BoundedEnvironment
from textdesk.domain.templating.limits import TemplateTooCostly, bounded

__all__ = [
    "TemplateError",
    "TemplateTooCostly",
    "compile_expression",
    "compile_template",
    "evaluate",
    "expand_shorthand",
    "render",
    "render_value",
    "strip_braces",
    "truthy",
]

_SHORTHAND_RE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}")
_BRACES_RE = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)

_ENV = BoundedEnvironment(
    autoescape=False,
    undefined=ChainableUndefined,
    keep_trailing_newline=False,
)
# A designer's typo in a template must not take a conversation down: rendering
# failures (type errors between undefined values, sandbox refusals...) become "".
# AttributeError too: a filter given the wrong type (``{{ 1|wordwrap(1) }}``) fails
# inside Jinja2 with one.
_RUNTIME_ERRORS = (
    TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    AttributeError,
)


def expand_shorthand(source: str) -> str:
    """Rewrite ``${field}`` into ``{{ record.field }}``."""
    return _SHORTHAND_RE.sub(lambda m: "{{ record." + m.group(1) + " }}", source)


def strip_braces(source: str) -> str:
    """Return the expression inside ``{{ ... }}`` when the whole string is one.

    Designers write conditions both as ``vars.ok`` and as ``"{{ vars.ok }}"``.
    """
    match = _BRACES_RE.match(source)
    if match and "{{" not in match.group(1) and "}}" not in match.group(1):
        return match.group(1).strip()
    return source.strip()


@lru_cache(maxsize=4096)
def compile_template(source: str) -> Template:
    """Compile a text template (cached); raises ``TemplateSyntaxError`` when invalid."""
    return _ENV.from_string(expand_shorthand(source))


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Any:
    """Compile a Jinja2 expression such as ``vars.confirm and not texter.is_guest``.

    ``{{ }}`` around the whole expression and ``${field}`` shorthand are accepted.
    Returns a callable taking the context as keyword arguments; raises
    ``TemplateSyntaxError`` when invalid.
    """
    return _ENV.compile_expression(strip_braces(expand_shorthand(source)), undefined_to_none=True)


def _is_template(source: str) -> bool:
    return "{" in source or "$" in source


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render ``source`` with ``context``; plain strings come back untouched.

    Raises :class:`TemplateTooCostly` when the render passes its budget.
    """
    if not _is_template(source):
        return source
    try:
        return compile_template(source).render(dict(context))
    except _RUNTIME_ERRORS:
        return ""


def evaluate(source: str, context: Mapping[str, Any]) -> Any:
    """Evaluate an expression to a Python value; undefined or failing gives ``None``.

    Raises :class:`TemplateTooCostly` when the evaluation passes its budget.
    """
    try:
        with bounded():
            return compile_expression(source)(**context)
    except _RUNTIME_ERRORS:
        return None


def render_value(source: Any, context: Mapping[str, Any]) -> Any:
    """Render a value for ``set`` or a record field, keeping non-text values as they are.

    A string that is one ``{{ expression }}`` keeps the expression's type (so
    ``"{{ vars.category }}"`` copies the whole choice); other strings are rendered as
    text; numbers, booleans, lists and mappings from YAML pass through.
    """
    if not isinstance(source, str):
        return source
    if _BRACES_RE.match(source) and strip_braces(source) != source.strip():
        value = evaluate(source, context)
        return "" if value is None else value
    return render(source, context)


def truthy(source: str | None, context: Mapping[str, Any]) -> bool:
    """Evaluate a ``when`` condition; no condition is true, a failing one is false."""
    if source is None or not source.strip():
        return True
    return bool(evaluate(source, context))
