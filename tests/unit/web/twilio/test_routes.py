"""The webhook lane reads a urlencoded form exactly as Starlette's ``request.form()`` does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.formparsers import FormParser

from textdesk.web.twilio.routes import MAX_FIELDS, urlencoded_items

# Pieces that decoding gets wrong most easily, and any bytes at all between them.
_PIECES = st.sampled_from(
    [b"&", b"=", b"+", b"%", b"%2", b"%41", b"%C3%A9", b"%F0%9F%98%80", b"%ff", b"%00", b";"]
)
bodies = st.lists(st.one_of(_PIECES, st.binary(max_size=4)), max_size=30).map(b"".join)


def _starlette(body: bytes) -> list[tuple[str, str]]:
    async def stream() -> AsyncIterator[bytes]:
        yield body

    async def parse() -> list[tuple[str, str]]:
        headers = Headers({"content-type": "application/x-www-form-urlencoded"})
        form = await FormParser(headers, stream()).parse()
        return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]

    return asyncio.run(parse())


@given(body=bodies)
def test_a_urlencoded_body_reads_as_starlette_reads_it(body: bytes) -> None:
    """Names, values, order, empty chunks, bad escapes and bad UTF-8: as Starlette."""
    assert urlencoded_items(body) == _starlette(body)


def test_more_fields_than_starlette_allows_are_refused() -> None:
    """A thousand fields are read; one more is Starlette's 400, empty chunks not counted."""
    assert len(urlencoded_items(b"&".join([b"a=1"] * MAX_FIELDS))) == MAX_FIELDS
    assert urlencoded_items(b"&" * 5000 + b"a=1&&") == [("a", "1")]
    with pytest.raises(HTTPException) as refused:
        urlencoded_items(b"&".join([b"a=1"] * (MAX_FIELDS + 1)))
    assert refused.value.status_code == 400
