"""ServiceNow encoded queries (``sysparm_query``): parsing, matching and ordering.

An encoded query is ``<field><operator><value>`` conditions joined by ``^`` (AND)
and ``^OR`` (OR, binding only the condition before and after it), split into
independent queries by ``^NQ`` (a row matches if any of them holds), with
``ORDERBY<field>`` / ``ORDERBYDESC<field>`` terms for the order.  A literal caret
in a value is written ``^^``.

This module knows nothing about tables: matching asks a ``value_of(field)``
callable for a row's value, so dot-walked fields (``caller_id.mobile_phone``) are
the caller's business.  Values are compared as text, case-sensitively, as
ServiceNow's Table API documentation states; ``>``/``<`` compare numerically when
both sides are numbers, which also orders ``YYYY-MM-DD HH:MM:SS`` dates correctly
as text.

Terms that are not conditions are kept in :attr:`EncodedQuery.unparsed` rather
than raising: an instance ignores the invalid part of a query by default, and the
caller decides whether to do the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

Row = TypeVar("Row")

# Longest first where one operator is a prefix of another ("!=" before "=", ...).
OPERATORS = (
    "!=",
    ">=",
    "<=",
    "=",
    ">",
    "<",
    "NOT IN",
    "IN",
    "NOT LIKE",
    "LIKE",
    "STARTSWITH",
    "ENDSWITH",
    "ISNOTEMPTY",
    "ISEMPTY",
    "ANYTHING",
    "NSAMEAS",
    "SAMEAS",
)
# Column names are lower case, which is what lets "caller_idISEMPTY" split where it does.
_CONDITION = re.compile(
    r"(?P<field>[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)"
    r"(?P<op>" + "|".join(re.escape(op) for op in OPERATORS) + r")"
    r"(?P<value>.*)",
    re.DOTALL,
)
_CARET = "\x00"  # stands in for an escaped "^^" while the query is split on "^"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Condition:
    """One ``<field><operator><value>`` term."""

    field: str
    operator: str
    value: str

    def holds(self, value_of: Callable[[str], str]) -> bool:
        """Whether the row that ``value_of`` reads satisfies this condition."""
        actual = value_of(self.field)
        op, wanted = self.operator, self.value
        if op == "=":
            return actual == wanted
        if op == "!=":
            return actual != wanted
        if op in {"IN", "NOT IN"}:
            return (actual in wanted.split(",")) == (op == "IN")
        if op in {"LIKE", "NOT LIKE"}:
            return (wanted in actual) == (op == "LIKE")
        if op == "STARTSWITH":
            return actual.startswith(wanted)
        if op == "ENDSWITH":
            return actual.endswith(wanted)
        if op in {"ISEMPTY", "ISNOTEMPTY"}:
            return (actual == "") == (op == "ISEMPTY")
        if op == "ANYTHING":
            return True
        if op in {"SAMEAS", "NSAMEAS"}:
            return (actual == value_of(wanted)) == (op == "SAMEAS")
        return _compare(actual, op, wanted)


def _compare(actual: str, op: str, wanted: str) -> bool:
    # An empty field is NULL in the database, and NULL compares with nothing.
    if actual == "":
        return False
    if _NUMBER.fullmatch(actual) and _NUMBER.fullmatch(wanted):
        return _ordered(float(actual), op, float(wanted))
    return _ordered(actual, op, wanted)


Comparable = TypeVar("Comparable", float, str)


def _ordered(left: Comparable, op: str, right: Comparable) -> bool:
    if op == ">":
        return left > right
    if op == "<":
        return left < right
    if op == ">=":
        return left >= right
    return left <= right


@dataclass(frozen=True)
class Ordering:
    """One ``ORDERBY``/``ORDERBYDESC`` term."""

    field: str
    descending: bool = False


# A clause is conditions joined by ^OR; a group is clauses joined by ^; ^NQ joins groups.
Clause = tuple[Condition, ...]
Group = tuple[Clause, ...]


@dataclass(frozen=True)
class EncodedQuery:
    """A parsed ``sysparm_query``; the empty query matches every row."""

    groups: tuple[Group, ...] = ()
    order: tuple[Ordering, ...] = ()
    unparsed: tuple[str, ...] = field(default=())

    def conditions(self) -> Iterable[Condition]:
        """Every condition, in the order written."""
        for group in self.groups:
            for clause in group:
                yield from clause

    def matches(self, value_of: Callable[[str], str]) -> bool:
        """Whether a row (read through ``value_of``) satisfies the query."""
        if not self.groups:
            return True
        return any(
            all(any(c.holds(value_of) for c in clause) for clause in group) for group in self.groups
        )

    def keep(
        self, wanted: Callable[[str], bool], *, operators: Collection[str] | None = None
    ) -> EncodedQuery:
        """This query without the conditions and orderings on fields ``wanted`` refuses,
        and without the conditions whose operator is not one of ``operators`` (when given).

        A group left without conditions matches every row, as the instance does
        when it drops the invalid part of a query.
        """

        def kept_condition(c: Condition) -> bool:
            return wanted(c.field) and (operators is None or c.operator in operators)

        groups = tuple(
            tuple(
                kept for clause in group if (kept := tuple(c for c in clause if kept_condition(c)))
            )
            for group in self.groups
        )
        order = tuple(o for o in self.order if wanted(o.field))
        return EncodedQuery(groups, order, self.unparsed)

    def sort(self, rows: Sequence[Row], value_of: Callable[[Row, str], str]) -> list[Row]:
        """``rows`` in the query's order (stable: ties keep their given order)."""
        ordered = list(rows)
        # Sorting by the last key first, each sort stable, yields the multi-key order.
        for ordering in reversed(self.order):
            ordered.sort(key=_key_for(value_of, ordering.field), reverse=ordering.descending)
        return ordered


def _key_for(
    value_of: Callable[[Row, str], str], field_name: str
) -> Callable[[Row], tuple[int, float, str]]:
    return lambda row: _sort_key(value_of(row, field_name))


def _sort_key(value: str) -> tuple[int, float, str]:
    # Empty (NULL) first, then numbers by value, then text; never compares str to float.
    if value == "":
        return (0, 0.0, "")
    if _NUMBER.fullmatch(value):
        return (1, float(value), "")
    return (2, 0.0, value)


def parse(query: str) -> EncodedQuery:
    """Parse an encoded query; terms that are not conditions land in ``unparsed``."""
    groups: list[list[list[Condition]]] = [[]]
    order: list[Ordering] = []
    unparsed: list[str] = []
    for raw in query.replace("^^", _CARET).split("^"):
        term = raw.replace(_CARET, "^")
        if term in {"", "EQ"}:  # "EQ" ends the queries the list UI builds
            continue
        if term.startswith("ORDERBYDESC"):
            order.append(Ordering(term.removeprefix("ORDERBYDESC"), descending=True))
            continue
        if term.startswith("ORDERBY"):
            order.append(Ordering(term.removeprefix("ORDERBY")))
            continue
        joins_or = term.startswith("OR")
        if term.startswith("NQ"):
            groups.append([])
            term = term.removeprefix("NQ")
        elif joins_or:
            term = term.removeprefix("OR")
        condition = _condition(term)
        if condition is None:
            unparsed.append(raw.replace(_CARET, "^^"))
            continue
        group = groups[-1]
        if joins_or and group:
            group[-1].append(condition)
        else:
            group.append([condition])
    return EncodedQuery(
        groups=tuple(tuple(tuple(clause) for clause in g) for g in groups if g),
        order=tuple(order),
        unparsed=tuple(unparsed),
    )


def _condition(term: str) -> Condition | None:
    found = _CONDITION.fullmatch(term)
    if found is None:
        return None
    return Condition(found["field"], found["op"], found["value"])
