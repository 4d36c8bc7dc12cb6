"""Arbitrary inputs: signed webhook forms, status callbacks and REST API requests.

A small seeded generator, biased towards what broke before (NUL characters,
values longer than a column, integers past 2**31, digits that are not ASCII,
wrong JSON types, negative limits) rather than uniform noise, which a server
refuses at the first check.  API requests are built from textdesk's own
OpenAPI document, so every route it publishes is reached, including new ones.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from benchmarks.load import NUMBER, webhook_form

from faults.texters import ACCOUNT_SID, new_sid

NASTY_STRINGS = (
    "",
    " ",
    "\x00",
    "hi\x00there",
    "²",
    "١٢٣",  # Arabic-Indic digits: isdigit() is True, int() is not what a column holds
    "😀" * 40,
    "é" * 161,
    "x" * 33,
    "y" * 65,
    "z" * 257,
    "w" * 5000,
    "+15550100100",
    "+1" + "5" * 40,
    "INC0010001",
    "stop",
    "agent",
    "{{ 7 * 7 }}",
    "{% for i in range(30) %}{% for j in range(30) %}{% for k in range(30) %}x"
    "{% endfor %}{% endfor %}{% endfor %}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\r\n\t",
    "\ud7ff\ue000\uffff",
)
NASTY_INTS = (0, -1, 1, 3, 2**31, 2**31 - 1, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30)
WRONG_TYPES: tuple[Any, ...] = (None, [], {}, True, 1.5, "1", [1, 2])


class Arbitrary:
    """Seeded choices; the same seed gives the same inputs, so a failure can be replayed."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def text(self) -> str:
        if self.random.random() < 0.6:
            return self.random.choice(NASTY_STRINGS)
        alphabet = "abc 019+-_\x00\x01\x7f²é中😀%&=#\n"
        return "".join(self.random.choice(alphabet) for _ in range(self.random.randint(0, 80)))

    def integer(self) -> int:
        return self.random.choice(NASTY_INTS)

    def anything(self) -> Any:
        kind = self.random.random()
        if kind < 0.5:
            return self.text()
        if kind < 0.8:
            return self.integer()
        return self.random.choice(WRONG_TYPES)

    # ---------------------------------------------------------------- Twilio's posts

    def inbound_form(self) -> list[tuple[str, str]]:
        """A signed-able inbound SMS form: Twilio's fields with some replaced or added."""
        form = dict(
            webhook_form(
                account_sid=ACCOUNT_SID,
                from_="+1555070" + f"{self.random.randint(0, 9999):04d}",
                to=NUMBER,
                body=self.text(),
                sid=new_sid(),
            )
        )
        for _ in range(self.random.randint(0, 3)):
            field = self.random.choice(
                ["From", "Body", "NumMedia", "NumSegments", "ToCountry", "FromCity", "extra"]
            )
            if field == "extra":
                form[self.text()[:40] or "X"] = self.text()
            else:
                form[field] = self.text()
        if self.random.random() < 0.1:
            form["NumMedia"] = "1"
            form["MediaUrl0"] = self.random.choice(["x", "http://127.0.0.1:1/m", self.text()])
            form["MediaContentType0"] = self.random.choice(["image/png", self.text()])
        return list(form.items())

    def status_form(self, known_sids: list[str]) -> list[tuple[str, str]]:
        """A status callback whose sid, status or error code may be anything."""
        sid = self.random.choice(known_sids) if known_sids and self.random.random() < 0.5 else None
        form = {
            "MessageSid": sid or self.text(),
            "MessageStatus": self.random.choice(
                ["sent", "delivered", "failed", "undelivered", self.text()]
            ),
            "AccountSid": ACCOUNT_SID,
            "To": "+15550700001",
            "ApiVersion": "2010-04-01",
        }
        form["SmsSid"] = form["MessageSid"]
        if self.random.random() < 0.6:
            form["ErrorCode"] = self.random.choice(
                [str(self.integer()), "²", "30003", "3" * 30, self.text()]
            )
        return list(form.items())


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    params: Mapping[str, str]
    body: Any  # JSON-encodable, or ``...`` for no body

    def describe(self) -> str:
        shown = "" if self.body is ... else " " + json.dumps(self.body)[:300]
        return f"{self.method} {self.path} {dict(self.params)}{shown}"


_PATH_PARAM = re.compile(r"\{([^}]+)\}")


def _resolve(schema: Mapping[str, Any], spec: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return _resolve(node, spec)
    return schema


def _value(arbitrary: Arbitrary, schema: Mapping[str, Any], spec: Mapping[str, Any]) -> Any:
    """A value for ``schema``: usually of its type (nastily chosen), sometimes not."""
    schema = _resolve(schema, spec)
    choose = arbitrary.random
    if choose.random() < 0.15:
        return arbitrary.anything()
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return _value(arbitrary, choose.choice(schema[key]), spec)
    kind = schema.get("type")
    if kind == "integer":
        return arbitrary.integer()
    if kind == "number":
        return choose.choice([0.5, -1.0, 1e308, arbitrary.integer()])
    if kind == "boolean":
        return choose.random() < 0.5
    if kind == "array":
        items = schema.get("items", {})
        return [_value(arbitrary, items, spec) for _ in range(choose.choice([0, 1, 3, 1001]))]
    if kind == "object" or "properties" in schema:
        return _object(arbitrary, schema, spec)
    if kind == "null":
        return None
    return arbitrary.text()


def _object(arbitrary: Arbitrary, schema: Mapping[str, Any], spec: Mapping[str, Any]) -> Any:
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    out: dict[str, Any] = {}
    for name, sub in properties.items():
        if name in required or arbitrary.random.random() < 0.6:
            out[name] = _value(arbitrary, sub, spec)
    if arbitrary.random.random() < 0.1:
        out[arbitrary.text()[:20]] = arbitrary.anything()
    return out


def api_requests(
    arbitrary: Arbitrary, spec: Mapping[str, Any], known: Mapping[str, list[str]], count: int
) -> Iterator[ApiRequest]:
    """``count`` requests to the operations of ``spec`` (an OpenAPI document).

    ``known`` offers real values for path parameters by name (record numbers,
    user ids), so requests also reach existing rows rather than only 404s.
    """
    operations = [
        (method.upper(), path, operation)
        for path, item in spec.get("paths", {}).items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    for _ in range(count):
        method, path, operation = arbitrary.random.choice(operations)
        params: dict[str, str] = {}
        for parameter in operation.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            value = _value(arbitrary, parameter.get("schema", {}), spec)
            if where == "path":
                real = known.get(name)
                if real and arbitrary.random.random() < 0.6:
                    value = arbitrary.random.choice(real)
                path = path.replace("{" + name + "}", quote(str(value), safe="") or "0")
            elif where == "query" and arbitrary.random.random() < 0.7:
                params[name] = value if isinstance(value, str) else json.dumps(value)
        content = operation.get("requestBody", {}).get("content", {})
        body: Any = ...
        if "application/json" in content:
            body = _value(arbitrary, content["application/json"].get("schema", {}), spec)
        yield ApiRequest(method, _PATH_PARAM.sub("0", path), params, body)
