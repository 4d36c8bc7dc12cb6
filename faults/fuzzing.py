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
from typing import Any, Literal

import httpx

from faults.arbitrary import ApiRequest, Arbitrary, api_requests
from faults.context import Context, blocking
from faults.databases import Database
from faults.evidence import drain, standin_report
from faults.ledger import Row, tally
from faults.processes import cli_output
from faults.stage import Stage, stage
from faults.texters import Twilio

FORMS = 300
CALLBACKS = 200
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


async def _inbound(twilio: Twilio, arbitrary: Arbitrary, failures: Failures) -> None:
    for _ in range(FORMS):
        form = arbitrary.inbound_form()
        sid = dict(form).get("MessageSid", "")
        twilio.genuine.add(sid)
        status = await twilio.post_once("/twilio/sms", form)
        if status == 200:
            twilio.acknowledged.add(sid)
        elif status is None or status >= 500:
            failures.add("inbound", status, form)


async def _callbacks(
    twilio: Twilio, arbitrary: Arbitrary, failures: Failures, sids: list[str]
) -> None:
    for _ in range(CALLBACKS):
        form = arbitrary.status_form(sids)
        status = await twilio.post_once("/twilio/status", form)
        if status is None or status >= 500:
            failures.add("status callback", status, form)


async def _api(current: Stage, arbitrary: Arbitrary, failures: Failures) -> None:
    """Arbitrary API requests, to every operation textdesk's OpenAPI document lists."""
    token = _TOKEN.findall(
        await blocking(lambda: cli_output(current.env(), "api-tokens", "create", "fuzz"))
    )[0]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=current.public_url, headers=headers, timeout=15.0) as api:
        spec = (await api.get("/api/v1/openapi.json")).json()
        user = await api.post("/api/v1/users", json={"name": "Fuzz", "phone": "+15550709999"})
        record = await api.post(
            "/api/v1/records", json={"short_description": "fuzz", "caller_phone": "+15550709999"}
        )
        known = {
            "user_id": [str(user.json().get("id", 1))],
            "number": [str(record.json().get("number", "INC0010001"))],
        }
        for request in api_requests(arbitrary, spec, known, API_CALLS):
            status = await _call(api, request)
            if status == "unsent":
                continue
            if status is None or status >= 500:
                failures.add("api", status, request.describe())


async def _call(api: httpx.AsyncClient, request: ApiRequest) -> int | Literal["unsent"] | None:
    """The answer's status; ``None`` when none came, "unsent" when httpx cannot encode it."""
    kwargs: dict[str, Any] = {"params": dict(request.params)}
    if request.body is not ...:
        kwargs["content"] = json.dumps(request.body).encode()
        kwargs["headers"] = {"Content-Type": "application/json"}
    try:
        built = api.build_request(request.method, request.path, **kwargs)
    except (httpx.InvalidURL, UnicodeEncodeError):
        return "unsent"  # a URL no client could send (control characters): not a server fault
    try:
        response = await api.send(built)
    except httpx.TransportError:
        return None
    return response.status_code


async def _fuzz(context: Context, name: str, slug: str, database: Database) -> Row:
    with stage(context, name, slug, database) as current:
        web = current.web()
        await blocking(web.start)
        failures = Failures(context.findings(slug))
        failures.path.unlink(missing_ok=True)
        arbitrary = Arbitrary(SEED)
        async with current.twilio() as twilio:
            await _inbound(twilio, arbitrary, failures)
            sids = standin_report(current.standin.url).sids
            await _callbacks(twilio, arbitrary, failures, sids)
            await _api(current, arbitrary, failures)
        witness = current.witness()
        try:
            await blocking(lambda: drain(witness, current.standin.url, timeout=DRAIN_TIMEOUT))
        finally:
            witness.close()
        evidence = current.evidence(twilio, genuine=False)
        # Every 5xx and every request left unanswered, whichever route it went to.
        evidence.server_errors = failures.count
        notes = [
            f"{FORMS} signed inbound forms, {CALLBACKS} signed status callbacks, "
            f"{API_CALLS} API requests (seed {SEED})",
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
