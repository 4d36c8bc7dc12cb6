"""Arbitrary inputs: signed webhook forms and status callbacks, and hypothesis examples.

Twilio's posts come from a small seeded generator, biased towards what broke
before (NUL characters, values longer than a column, integers past 2**31,
digits that are not ASCII) rather than uniform noise, which a server refuses at
the first check.  REST API requests come from the test-suite's own hypothesis
strategies (``tests/strategies.py``), drawn here by :func:`examples`.
"""

from __future__ import annotations

import random
from typing import Any, TypeVar

from benchmarks.load import NUMBER, webhook_form
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

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
T = TypeVar("T")


def examples(strategy: st.SearchStrategy[T], count: int, seed: int) -> list[T]:
    """``count`` values drawn from ``strategy``, the same ones for the same seed.

    Drawn by running a ``@given`` function that only collects, so hypothesis
    generates as it does in a test (no shrinking: nothing fails here), and the
    requests are then sent to the real server outside hypothesis.
    """
    found: list[T] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(strategy)
    def collect(value: T) -> None:
        found.append(value)

    collect()
    return found


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
