"""Arbitrary signed input posted to the running server: no 500, no lost text.

Every form is signed with the right token, so it reaches textdesk's parsing,
storage and answering, not just the signature check.  A 500 is a failure
whatever the input; an inbound text answered 200 must be stored and answered
(or deliberately left unanswered, as for a sender that cannot be texted back).
Inputs that caused a 5xx are written to ``var/faults/<scenario>-failures.jsonl``,
to be replayed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from benchmarks.children import run_textdesk
from benchmarks.load import NUMBER
from hypothesis import strategies as st
from tests.strategies import ApiCall, api_calls
from tests.webhook_strategies import inbound_forms, status_forms

from faults.arbitrary import Arbitrary, examples
from faults.context import Context, blocking
from faults.databases import Database
from faults.evidence import standin_report
from faults.ledger import Row, tally
from faults.stage import Stage, stage
from faults.texters import Twilio, converse

Form = list[tuple[str, str]]
# Twilio names a text in three fields; a form may carry any of them (they must agree).
SID_FIELDS = ("MessageSid", "SmsMessageSid", "SmsSid")
FORMS = 300
OWN_FORMS = 100
CALLBACKS = 200
OWN_CALLBACKS = 100
API_CALLS = 300
SEED = 10
DRAIN_TIMEOUT = 45.0
_TOKEN = re.compile(r"tdk_\S+")


class Failures:
    """The inputs that got a 5xx (or no answer), one JSON line each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0

    def add(self, kind: str, status: int | None, request: Any) -> None:
        self.count += 1
        with self.path.open("a") as out:
            out.write(json.dumps({"kind": kind, "status": status, "input": request}) + "\n")


def _forms(arbitrary: Arbitrary, sids: list[str]) -> tuple[list[Form], list[Form]]:
    """(inbound forms, status callbacks): the test-suite's strategies, then the suite's own.

    ``tests/webhook_strategies.py`` draws any field odd, extra or missing; the
    suite's generator adds values those strategies do not draw (error codes past
    2**31, Arabic-Indic digits as a code) in Twilio's full field set.
    """
    texts = examples(inbound_forms(NUMBER, "+15550700001"), FORMS - OWN_FORMS, SEED)
    texts += [arbitrary.inbound_form() for _ in range(OWN_FORMS)]
    # Callbacks about real messages, so that odd values meet rows that exist.
    about = st.one_of(status_forms(), *(status_forms(sid) for sid in sids[:20]))
    statuses = examples(about, CALLBACKS - OWN_CALLBACKS, SEED)
    statuses += [arbitrary.status_form(sids) for _ in range(OWN_CALLBACKS)]
    return texts, statuses


async def _inbound(twilio: Twilio, forms: list[Form], failures: Failures) -> None:
    for form in forms:
        sid = next((value for name, value in form if name in SID_FIELDS), "")
        status = await twilio.post_once("/twilio/sms", form)
        if status == 200:
            twilio.acknowledged.add(sid)
        elif status is None or status >= 500:
            failures.add("inbound", status, form)


async def _callbacks(twilio: Twilio, forms: list[Form], failures: Failures) -> None:
    for form in forms:
        status = await twilio.post_once("/twilio/status", form)
        if status is None or status >= 500:
            failures.add("status callback", status, form)


async def _api(current: Stage, failures: Failures) -> int:
    """The test-suite's hostile API requests, against an existing record and user; how many."""
    made = await blocking(lambda: run_textdesk(current.env(), "api-tokens", "create", "fuzz"))
    headers = {"Authorization": f"Bearer {_TOKEN.findall(made)[0]}"}
    base = current.public_url + "/api/v1"
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=15.0) as api:
        user = await api.post("/users", json={"name": "Fuzz", "phone": "+15550709999"})
        record = await api.post(
            "/records", json={"short_description": "fuzz", "caller_phone": "+15550709999"}
        )
        strategy = api_calls(number=record.json()["number"], user_id=user.json()["id"])
        calls = await blocking(lambda: examples(strategy, API_CALLS, SEED))
        for call in calls:
            status = await _call(api, call)
            if status is None or status >= 500:
                failures.add("api", status, repr(call))
    return len(calls)


async def _call(api: httpx.AsyncClient, call: ApiCall) -> int | None:
    """The answer's status, ``None`` when none came, 0 when the request cannot be sent."""
    headers = {"Content-Type": "application/json"} if call.body is not None else {}
    try:
        response = await api.request(
            call.method, call.path, params=call.query, content=call.body, headers=headers
        )
    except httpx.TransportError:
        return None
    except (httpx.InvalidURL, UnicodeEncodeError):
        return 0  # a URL no HTTP client can send (a lone surrogate): not the server's fault
    return response.status_code


async def _fuzz(context: Context, name: str, slug: str, database: Database) -> Row:
    with stage(context, name, slug, database) as current:
        web = current.web()
        await blocking(web.start)
        failures = Failures(context.findings(slug))
        failures.path.unlink(missing_ok=True)
        arbitrary = Arbitrary(SEED)
        async with current.twilio() as twilio:
            # A few ordinary texts first, so the callbacks have real messages to be about.
            await converse(twilio, texters=5, texts=2, prefix="+1555080", pause=0.1)
            await blocking(lambda: current.drain(timeout=20))
            texts, statuses = await blocking(
                lambda: _forms(arbitrary, standin_report(current.standin.url).sids)
            )
            await _inbound(twilio, texts, failures)
            await _callbacks(twilio, statuses, failures)
            api_calls_made = await _api(current, failures)
        await blocking(lambda: current.drain(timeout=DRAIN_TIMEOUT))
        evidence = current.evidence(twilio, genuine=False)
        # Every 5xx and every request left unanswered, whichever route it went to.
        evidence.server_errors = failures.count
        notes = [
            f"{len(texts)} signed inbound forms and {len(statuses)} signed status callbacks "
            f"({OWN_FORMS} and {OWN_CALLBACKS} of them the suite's own, the rest from "
            f"tests/webhook_strategies.py), {api_calls_made} API requests from "
            f"tests/strategies.py (seed {SEED})",
            "answers to Twilio's posts: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(twilio.statuses.items())),
        ]
        if failures.count:
            notes.append(
                f"{failures.count} inputs answered 5xx or not at all: "
                f"{failures.path.name} beside the table"
            )
        return tally(name, evidence, notes)


async def fuzz_sqlite(context: Context) -> Row:
    """Arbitrary signed forms and API bodies against ``textdesk serve`` on SQLite."""
    slug = "fuzz-sqlite"
    return await _fuzz(context, "fuzzing (SQLite)", slug, context.sqlite(slug))


async def fuzz_postgres(context: Context) -> Row:
    """Arbitrary signed forms and API bodies against ``textdesk serve`` on PostgreSQL."""
    return await _fuzz(context, "fuzzing (PostgreSQL)", "fuzz-postgres", context.postgres())
