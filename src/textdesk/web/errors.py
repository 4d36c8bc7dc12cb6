"""API error answers: 422s that name the field."""

from __future__ import annotations

from fastapi import HTTPException, status


def field_error(field: str, message: str, *, where: str = "body") -> HTTPException:
    """A 422 shaped like FastAPI's validation errors, naming ``field``."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": [where, field], "msg": message, "type": "value_error"}],
    )
