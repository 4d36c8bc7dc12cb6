"""Checks for the filters and methods whose cost depends on their arguments.

``'x'|center(n)`` costs ``n``, ``s|replace('x', s)`` the square of ``len(s)``, a
join the sum of its items: each is refused before it runs when the result would
pass :data:`~textdesk.domain.templating.limits.MAX_VALUE`.  Every filter also pays a
step (more for a long input) and has its result held to the size limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from textdesk.domain.templating.limits import (
    MAX_VALUE,
    TemplateTooCostly,
    active_budget,
    check_printf,
    check_width,
    checked,
    cost,
    too_big,
    weight,
)

__all__ = ["before_method_call", "bounded_filter"]


def _joined(items: list[Any], sep: str) -> int:
    """Characters a join of ``items`` would make (the count is paid for by the item)."""
    budget = active_budget()
    if budget is not None:
        budget.step(len(items) // 2)
    return sum(len(i) if isinstance(i, str) else weight(i) for i in items) + len(sep) * len(items)


# Checks made before a filter runs, for those whose cost depends on their arguments.
def _guard_join(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if kwargs.get("attribute") is not None or len(args) > 1:
        return value
    items = list(value) if isinstance(value, Iterable) else value
    sep = args[0] if args else kwargs.get("d", "")
    if isinstance(items, list) and _joined(items, str(sep)) > MAX_VALUE:
        raise too_big("a join")
    return items


def _guard_replace(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    old, new = [*args, kwargs.get("old", ""), kwargs.get("new", "")][:2]
    text, old, new = str(value), str(old), str(new)
    hits = len(text) + 1 if not old else text.count(old)
    if len(text) + hits * len(new) > MAX_VALUE:
        raise too_big("a replace")
    return value


def _guard_indent(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    width = args[0] if args else kwargs.get("width", 4)
    size = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    if (str(value).count("\n") + 1) * size > MAX_VALUE:
        raise too_big("an indent")
    return value


def _guard_wordwrap(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    width = args[0] if args else kwargs.get("width", 79)
    wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring") or "\n"
    lines = len(str(value)) // max(int(width), 1) + 1 if isinstance(width, int) else 1
    if len(str(value)) + lines * len(str(wrap)) > MAX_VALUE:
        raise too_big("a word wrap")
    return value


def _guard_widths(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    for arg in (*args, *kwargs.values()):
        check_width(arg, "a width")
    return value


def _guard_format(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    check_printf(str(value))
    return value


def _guard_sum(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
    if not isinstance(start, int | float):
        raise TemplateTooCostly("sum adds numbers only")  # lists would add up quadratically
    return value


Guard = Callable[[Any, tuple[Any, ...], dict[str, Any]], Any]
_FILTER_GUARDS: dict[str, Guard] = {
    "join": _guard_join,
    "replace": _guard_replace,
    "indent": _guard_indent,
    "wordwrap": _guard_wordwrap,
    "center": _guard_widths,
    "batch": _guard_widths,
    "slice": _guard_widths,
    "tojson": _guard_widths,
    "format": _guard_format,
    "sum": _guard_sum,
}
_STR_METHODS_WITH_WIDTH = frozenset({"center", "ljust", "rjust", "zfill"})


def bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` paying a step, checked before (guards) and after (size) it runs.

    Marked ``pass_context`` so the compiler never runs it at compile time on
    constant arguments (where no budget applies).
    """
    passes = getattr(func, "jinja_pass_arg", None)
    passed = None if passes is None else passes.name
    guard = _FILTER_GUARDS.get(name)

    @pass_context
    def bounded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        budget = active_budget()
        if budget is not None:
            budget.step(1 + cost(value))
            if guard is not None:
                value = guard(value, args, kwargs)
        if passed == "context":
            result = func(context, value, *args, **kwargs)
        elif passed == "eval_context":
            result = func(context.eval_ctx, value, *args, **kwargs)
        elif passed == "environment":
            result = func(context.environment, value, *args, **kwargs)
        else:
            result = func(value, *args, **kwargs)
        return checked(result, f"the {name} filter") if budget is not None else result

    return bounded


def before_method_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Pay for and check a call of a method, before it runs; the arguments to call with."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    budget = active_budget()
    if budget is not None:
        budget.step(cost(owner))
    if isinstance(owner, str):
        if name in _STR_METHODS_WITH_WIDTH:
            _guard_widths(owner, args, kwargs)
        elif name == "join" and args:
            args = (_guard_join(args[0], (owner,), {}), *args[1:])
        elif name == "replace":
            _guard_replace(owner, args, kwargs)
    elif isinstance(owner, int) and name == "to_bytes":
        _guard_widths(owner, args, kwargs)
    return args
