"""Jinja2's immutable sandbox, with every way a template spends time or memory paid for.

The budget and its checks live in :mod:`textdesk.domain.templating.limits`; this
module puts them where a template's work happens: the compiler adds a step to each
loop iteration and turns ``~`` and literals into checked calls, and the environment
checks calls, the operators that can build big values, filters and formatting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from textdesk.domain.templating.guards import before_method_call, bounded_filter
from textdesk.domain.templating.limits import (
    MAX_DEPTH,
    TemplateTooCostly,
    active_budget,
    before_binop,
    bounded,
    bounded_concat,
    bounded_range,
    check_format_string,
    checked,
)

__all__ = ["BoundedEnvironment", "BoundedTemplate"]


def _tick() -> bool:
    """One loop iteration (the step is paid by ``BoundedEnvironment.call``)."""
    return True


def _environment_call(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
    """A call of an environment attribute: Jinja2 allows no custom nodes."""
    return nodes.Call(nodes.EnvironmentAttribute(name), args, [], None, None, lineno=lineno)


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja2's code generator with loop steps, bounded ``~`` and bounded literals.

    Literals become calls (``[a, b]`` is ``environment.built_list(a, b)``), whose
    results :meth:`BoundedEnvironment.call` checks like any other.
    """

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        tick = _environment_call("tick", [], node.lineno)
        node.body = [nodes.ExprStmt(tick, lineno=node.lineno), *node.body]
        if node.test is not None:  # items a filter drops cost a step too
            node.test = nodes.And(_environment_call("tick", [], node.lineno), node.test)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self.visit(_environment_call("built_list", node.items, node.lineno), frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx == "store":
            super().visit_Tuple(node, frame)
        else:
            self.visit(_environment_call("built_tuple", node.items, node.lineno), frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        pairs = [part for pair in node.items for part in (pair.key, pair.value)]
        self.visit(_environment_call("built_dict", pairs, node.lineno), frame)


class BoundedTemplate(Template):
    """A template whose ``render`` runs under a fresh budget."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        with bounded():
            return super().render(*args, **kwargs)


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with every way to spend time or memory paid for."""

    code_generator_class = _BoundedCodeGenerator
    template_class = BoundedTemplate
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = bounded_range
        # Paragraphs of filler text: no use in a text message, and a cheap way to ask
        # for megabytes.
        self.globals.pop("lipsum", None)
        self.filters = {name: bounded_filter(name, f) for name, f in self.filters.items()}
        self.concat = bounded_concat  # type: ignore[method-assign] # the output limit

    tick = staticmethod(_tick)

    @staticmethod
    def built_list(*items: Any) -> list[Any]:
        """A list literal."""
        return list(items)

    @staticmethod
    def built_tuple(*items: Any) -> tuple[Any, ...]:
        """A tuple literal."""
        return items

    @staticmethod
    def built_dict(*pairs: Any) -> dict[Any, Any]:
        """A dict literal, from keys and values in turn."""
        return dict(zip(pairs[::2], pairs[1::2], strict=True))

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # translate maps characters to strings of any length; expandtabs multiplies.
        if isinstance(obj, str) and attr in ("translate", "expandtabs"):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            check_format_string(value.__self__)
        return wrapped

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if active_budget() is not None:
            before_binop(operator, left, right)
            result = self.binop_table[operator](left, right)
            return checked(result, f"a {operator!r}")
        return self.binop_table[operator](left, right)

    def call(
        __self,  # Jinja2's names: a template's keyword arguments cannot collide with them
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        budget = active_budget()
        if budget is None:
            return super().call(__context, __obj, *args, **kwargs)
        budget.step()
        if __obj is _tick:
            return True
        args = before_method_call(__obj, args, kwargs)
        budget.depth += 1
        try:
            if budget.depth > MAX_DEPTH:
                raise TemplateTooCostly(f"its calls nest more than {MAX_DEPTH} deep")
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        return checked(result, "a call")
