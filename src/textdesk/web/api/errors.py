"""API error answers: 422s that name the field, and that can always be rendered.

FastAPI's own validation answer echoes each bad input back; an input that JSON
cannot carry (a lone surrogate, ``NaN``, ``1e999``) then fails to render and the
client gets a 500 instead of its 422.  The answer here keeps where and why
(``loc``, ``msg``, ``type``) and leaves the input out.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def field_error(field: str, message: str, *, where: str = "body") -> HTTPException:
    """A 422 shaped like FastAPI's validation errors, naming ``field``."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": [where, field], "msg": message, "type": "value_error"}],
    )


class _AsciiJSONResponse(JSONResponse):
    """JSON in ASCII: any string a client sent can be written back escaped."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 for a request that does not validate, without the inputs."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return _AsciiJSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": jsonable_encoder(errors)},
    )
