"""Hypothesis strategies for hostile input: JSON bodies and query strings for the REST API.

Biased towards what broke before (NUL, lone surrogates, strings longer than a
column, integers past 64 bits, NaN and infinities, wrong JSON types, negative
pages) and otherwise arbitrary, so that a test posting them sees every kind of
refusal.  Shared by the tests and the fault suite.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

__all__ = [
    "API_ROUTES",
    "ApiCall",
    "api_calls",
    "encode_json",
    "hostile_ints",
    "hostile_json",
    "hostile_text",
]

NASTY_TEXT = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "²",
    "١٢٣",
    "😀" * 50,
    "c" * 65,
    "d" * 161,
    "e" * 201,
    "f" * 321,
    "g" * 1601,
    "INC0010001",
    "inc0010001",
    "+15551230001",
    "+1" + "5" * 40,
    "New",
    "Resolved",
    "state_changed",
    "../../etc/passwd",
    "{{ 7 * 7 }}",
    "{% for a in range(400) %}{% for b in range(400) %}x{% endfor %}{% endfor %}",
    "{{ 'x' * 10**9 }}",
    "${number}",
)
NASTY_INTS = (0, 1, 2, 3, -1, 4, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30)


def hostile_text() -> st.SearchStrategy[str]:
    """Strings that broke things before, or any text at all (surrogates included)."""
    return st.one_of(
        st.sampled_from(NASTY_TEXT),
        st.text(st.characters(codec=None, categories=None), max_size=40),
        st.text(max_size=300),
    )


def hostile_ints() -> st.SearchStrategy[int]:
    """Boundary integers (ids, urgencies, 32- and 64-bit limits) or any integer."""
    return st.one_of(st.sampled_from(NASTY_INTS), st.integers())


def hostile_json() -> st.SearchStrategy[Any]:
    """Any JSON value (NaN and infinities too), nested a few levels."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        hostile_ints(),
        st.floats(allow_nan=True, allow_infinity=True),
        hostile_text(),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(hostile_text(), inner, max_size=4)
        ),
        max_leaves=12,
    )


def encode_json(value: Any) -> bytes:
    """JSON as a hostile client writes it: NaN and lone surrogates allowed (escaped)."""
    return json.dumps(value, allow_nan=True, ensure_ascii=True).encode("ascii")


# Each write or list route of /api/v1, with the fields (body or query) it reads.
RECORD_FIELDS = ("short_description", "description", "category", "urgency")
API_ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("POST", "/records", (*RECORD_FIELDS, "caller_id", "caller_phone")),
    ("PATCH", "/records/{number}", (*RECORD_FIELDS, "state", "assigned_to")),
    ("POST", "/records/{number}/comments", ("body", "author", "public")),
    ("GET", "/records", ("caller_id", "caller_phone", "open_only", "limit", "offset")),
    ("GET", "/records/{number}", ()),
    ("POST", "/users", ("name", "phone", "email")),
    ("GET", "/users", ("limit", "offset")),
    ("GET", "/conversations", ("limit", "offset")),
    ("GET", "/conversations/{id}/transcript", ("limit", "offset")),
    (
        "POST",
        "/notifications",
        ("user_id", "user_ids", "record_number", "template", "body", "params"),
    ),
    ("GET", "/users/{id}/notifications", ("limit", "offset")),
    ("GET", "/users/{id}/subscription", ()),
    ("PUT", "/users/{id}/subscription", ("enabled",)),
    ("GET", "/topics", ()),
    ("GET", "/topics/{topic}", ()),
    ("PUT", "/topics/{topic}", ("source",)),
    ("POST", "/topics/{topic}/publish", ("note",)),
    ("GET", "/topics/{topic}/versions", ()),
    ("POST", "/topics/{topic}/rollback", ("version",)),
    ("DELETE", "/topics/{topic}", ()),
)


class ApiCall:
    """One request: method, path (parameters filled and quoted), query and JSON body."""

    def __init__(self, method: str, path: str, query: dict[str, str], body: bytes | None) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.body = body

    def __repr__(self) -> str:
        return f"ApiCall({self.method} {self.path} query={self.query!r} body={self.body!r})"


def _query_value(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value if isinstance(value, str) else json.dumps(value)


@st.composite
def api_calls(
    draw: st.DrawFn, *, number: str = "INC0010001", user_id: int = 1, topic: str = "greeting"
) -> ApiCall:
    """A request to one of :data:`API_ROUTES`, its fields drawn from the hostile values.

    Path parameters are mostly the given existing ``number``/``user_id``/``topic`` (so
    that the request reaches the database), sometimes anything.
    """
    method, template, fields = draw(st.sampled_from(API_ROUTES))
    path_number = draw(st.one_of(st.just(number), hostile_text()))
    path_id = draw(st.one_of(st.just(user_id), hostile_ints()))
    path_topic = draw(st.one_of(st.just(topic), hostile_text()))
    path = template.format(
        number=quote(path_number.encode("utf-8", "surrogatepass"), safe=""),
        id=path_id,
        topic=quote(path_topic.encode("utf-8", "surrogatepass"), safe=""),
    )
    chosen = draw(st.lists(st.sampled_from(fields), unique=True) if fields else st.just([]))
    values = {name: draw(hostile_json()) for name in chosen}
    extra = draw(st.dictionaries(hostile_text(), hostile_json(), max_size=2))
    if method == "GET":
        query = {k: _query_value(v) for k, v in values.items()}
        return ApiCall(method, path, query, None)
    body: Any = {**extra, **values} if draw(st.integers(0, 9)) else draw(hostile_json())
    return ApiCall(method, path, {}, encode_json(body))
