"""Field types the REST API shares: text a column can hold, ids, and paging.

Every input is checked against what the database will take, so that a client's
mistake is a 422 naming the field rather than a database error (a 500): text
without NUL (PostgreSQL refuses it) and valid Unicode, no longer than its column
(lengths are read from the table definitions), ids within a 64-bit integer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BeforeValidator, Field
from sqlalchemy import Column, String

__all__ = [
    "CLEAN",
    "MAX_ID",
    "MAX_PAGE",
    "Id",
    "Limit",
    "Offset",
    "PathId",
    "QueryId",
    "Text",
    "column_length",
    "no_bad_text",
]

# BIGINT on PostgreSQL; SQLite's INTEGER holds the same.
MAX_ID = 2**63 - 1
# A page of a list endpoint; more should be fetched with ``offset``.
MAX_PAGE = 500


def column_length(column: Column[Any]) -> int:
    """The declared length of a ``String`` column."""
    kind = column.type
    assert isinstance(kind, String)
    assert kind.length is not None
    return kind.length


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # the type check that follows explains it
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


def no_bad_text(value: Any) -> Any:
    """``value`` (JSON of any shape) if none of its strings, keys included, is bad text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _text(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return value


# Put after a string's length limit (``Annotated[str, Field(max_length=n), CLEAN]``),
# so that the limit keeps the string's own message ("at most n characters").
CLEAN = BeforeValidator(_text)
Text = Annotated[str, CLEAN]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"at most {MAX_PAGE}")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]
