"""The Twilio stand-in, driven over real HTTP like a Twilio client and a texter's phone."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from textdesk.adapters.local_server import serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.adapters.twilio.signature import is_valid_signature
from textdesk.testing.clock import FixedClock

ACCOUNT = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token"
SENDER = "+15005550006"
TEXTER = "+14155550100"


@dataclass
class Received:
    """One POST the receiver got: path, form items and the signature header."""

    path: str
    form: list[tuple[str, str]]
    signature: str | None

    @property
    def fields(self) -> dict[str, str]:
        """The form as a dict (last value wins)."""
        return dict(self.form)


@dataclass
class Receiver:
    """A tiny webhook/status-callback endpoint served on a loopback port."""

    base_url: str = ""
    posts: list[Received] = field(default_factory=list)

    def at(self, path: str) -> list[Received]:
        """Posts that hit ``path``, in arrival order."""
        return [p for p in self.posts if p.path == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A receiver app that records every POST and answers empty TwiML."""
    rec = Receiver()

    async def record(request: Request) -> Response:
        form = await request.form()
        items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        rec.posts.append(
            Received(request.url.path, items, request.headers.get("x-twilio-signature"))
        )
        return Response("<Response/>", media_type="text/xml")

    app = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])
    with serve_app(app) as url:
        rec.base_url = url
        yield rec


@pytest.fixture(scope="module")
def served() -> Iterator[FakeTwilio]:
    """One stand-in on a loopback port for the whole module (reset per test)."""
    with FakeTwilio(ACCOUNT, TOKEN).serve() as fake:
        yield fake


@pytest.fixture
def twilio(served: FakeTwilio, receiver: Receiver) -> FakeTwilio:
    """The served stand-in with a clean slate."""
    served.reset()
    served.callback_delay = 0.0
    receiver.posts.clear()
    return served


def messages_url(fake: FakeTwilio, account: str = ACCOUNT) -> str:
    """The Messages.json URL of ``account`` on the served stand-in."""
    return f"{fake.base_url}/2010-04-01/Accounts/{account}/Messages.json"


async def send(
    fake: FakeTwilio,
    *,
    auth: tuple[str, str] | None = (ACCOUNT, TOKEN),
    account: str = ACCOUNT,
    client_timeout: float = 5.0,
    **fields: Any,
) -> httpx.Response:
    """POST a send the way a Twilio client would (From defaults to SENDER)."""
    data = {"From": SENDER, **fields}
    async with httpx.AsyncClient(auth=auth, timeout=client_timeout) as client:
        return await client.post(messages_url(fake, account), data=data)


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    """Poll ``check`` until true, failing after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def twilio_error(response: httpx.Response) -> int:
    """Assert the body is Twilio's error shape and return its code."""
    body = response.json()
    assert set(body) == {"code", "message", "more_info", "status"}
    assert body["status"] == response.status_code
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{body['code']}"
    code = body["code"]
    assert isinstance(code, int)
    return code


async def test_create_message_answers_201_twilio_shaped(twilio: FakeTwilio) -> None:
    """A valid send answers 201 with Twilio's message JSON and is recorded."""
    response = await send(twilio, To=TEXTER, Body="Hello there")
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sid"])
    assert body["account_sid"] == ACCOUNT
    assert (body["to"], body["from"], body["body"]) == (TEXTER, SENDER, "Hello there")
    assert body["status"] == "queued"
    assert (body["num_segments"], body["num_media"]) == ("1", "0")
    assert body["direction"] == "outbound-api"
    assert body["api_version"] == "2010-04-01"
    assert body["error_code"] is None
    assert body["error_message"] is None
    assert body["price"] is None
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{body['sid']}.json"
    assert parsedate_to_datetime(body["date_created"]).tzinfo is not None
    assert parsedate_to_datetime(body["date_updated"]).tzinfo is not None

    [message] = twilio.messages
    assert (message.sid, message.to, message.from_, message.body) == (
        body["sid"],
        TEXTER,
        SENDER,
        "Hello there",
    )
    assert [(a.to, a.status) for a in twilio.attempts] == [(TEXTER, 201)]


async def test_fetch_message_reports_current_status(twilio: FakeTwilio) -> None:
    """GET Messages/{sid}.json answers the message with its latest status."""
    sid = (await send(twilio, To=TEXTER, Body="hi")).json()["sid"]
    await eventually(lambda: twilio.messages[0].status == "delivered")
    url = f"{twilio.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json"
    async with httpx.AsyncClient() as client:
        fetched = await client.get(url, auth=(ACCOUNT, TOKEN))
        unknown = await client.get(url.replace(sid, "SM" + "0" * 32), auth=(ACCOUNT, TOKEN))
        anonymous = await client.get(url)
    assert fetched.status_code == 200
    assert (fetched.json()["sid"], fetched.json()["status"]) == (sid, "delivered")
    assert fetched.json()["date_sent"] is not None
    assert twilio_error(unknown) == 20404
    assert twilio_error(anonymous) == 20003


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, "1"),
        ("a" * 161, "2"),
        ("a" * 306, "2"),
        ("€" * 80, "1"),  # extension characters cost two septets
        ("ж" * 70, "1"),
        ("ж" * 71, "2"),
        ("a" * 159 + "😀", "3"),  # one emoji turns the whole text into UCS-2
    ],
)
async def test_num_segments_follow_gsm7_and_ucs2(
    twilio: FakeTwilio, body: str, segments: str
) -> None:
    """num_segments uses 160/153 for GSM-7 and 70/67 for UCS-2."""
    response = await send(twilio, To=TEXTER, Body=body)
    assert response.json()["num_segments"] == segments


@pytest.mark.parametrize(
    ("auth", "account", "status", "code"),
    [
        (None, ACCOUNT, 401, 20003),
        ((ACCOUNT, "wrong-token"), ACCOUNT, 401, 20003),
        (("AC" + "f" * 32, TOKEN), ACCOUNT, 401, 20003),
        ((ACCOUNT, TOKEN), "AC" + "f" * 32, 404, 20404),
    ],
)
async def test_bad_credentials_or_account_are_refused(
    twilio: FakeTwilio, auth: tuple[str, str] | None, account: str, status: int, code: int
) -> None:
    """Missing/wrong basic auth is 401/20003; another account in the path is 404/20404."""
    response = await send(twilio, auth=auth, account=account, To=TEXTER, Body="x")
    assert response.status_code == status
    assert twilio_error(response) == code
    assert twilio.messages == []
    assert [a.status for a in twilio.attempts] == [status]


async def test_bad_auth_is_twilio_shaped_20003(twilio: FakeTwilio) -> None:
    """The 401 body is exactly Twilio's Authenticate error."""
    response = await send(twilio, auth=(ACCOUNT, "nope"), To=TEXTER, Body="x")
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


async def test_a_refused_send_keeps_none_of_what_was_posted(twilio: FakeTwilio) -> None:
    """Posts refused for their credentials are recorded by answer and size, not by content."""
    big = "x" * 50_000
    for auth, account in [(None, ACCOUNT), ((ACCOUNT, "nope"), ACCOUNT), ((ACCOUNT, TOKEN), "AC1")]:
        refused = await send(twilio, auth=auth, account=account, To=big, Body=big)
        assert refused.status_code in (401, 404)
    accepted = await send(twilio, To=TEXTER, Body="kept")
    assert accepted.status_code == 201
    refusals, [kept] = twilio.attempts[:3], twilio.attempts[3:]
    assert [(a.status, a.code) for a in refusals] == [(401, 20003), (401, 20003), (404, 20404)]
    assert [(a.to, a.body) for a in refusals] == [("", "")] * 3
    assert all(a.size is not None and a.size > 100_000 for a in refusals)
    assert (kept.to, kept.body, kept.status) == (TEXTER, "kept", 201)
    assert twilio.messages_to(TEXTER)[0].body == "kept"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"Body": "x"}, 21604),
        ({"To": "4155550100", "Body": "x"}, 21211),
        ({"To": "+0123456789", "Body": "x"}, 21211),
        ({"To": "+1415", "Body": "x"}, 21211),
        ({"To": TEXTER}, 21602),
        ({"To": TEXTER, "Body": "x" * 1601}, 21617),
        ({"To": TEXTER, "MediaUrl": [f"https://example.com/{i}.png" for i in range(11)]}, 21623),
    ],
)
async def test_invalid_sends_are_400_with_twilio_codes(
    twilio: FakeTwilio, fields: dict[str, Any], code: int
) -> None:
    """Missing/invalid To, empty or oversized content are 400s with Twilio's codes."""
    response = await send(twilio, **fields)
    assert response.status_code == 400
    assert twilio_error(response) == code
    assert twilio.messages == []


async def test_media_only_send_and_messaging_service_are_accepted(twilio: FakeTwilio) -> None:
    """MediaUrl alone is content; MessagingServiceSid replaces From and answers "accepted"."""
    async with httpx.AsyncClient(auth=(ACCOUNT, TOKEN)) as client:
        response = await client.post(
            messages_url(twilio),
            data={
                "To": TEXTER,
                "MessagingServiceSid": "MG" + "1" * 32,
                "MediaUrl": ["https://example.com/a.png", "https://example.com/b.png"],
            },
        )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["num_segments"], body["num_media"]) == ("accepted", "0", "2")
    assert body["from"] is None
    assert twilio.messages[0].media_urls == (
        "https://example.com/a.png",
        "https://example.com/b.png",
    )


async def test_opted_out_recipient_is_21610_until_start(
    twilio: FakeTwilio, receiver: Receiver
) -> None:
    """A texter's STOP blocks sends with 21610; START lifts it; YES only opts back in."""
    webhook = f"{receiver.base_url}/sms"
    await twilio.send_inbound(webhook_url=webhook, from_=TEXTER, to=SENDER, body="  stop ")
    assert twilio.is_opted_out(TEXTER)

    refused = await send(twilio, To=TEXTER, Body="still there?")
    assert refused.status_code == 400
    assert twilio_error(refused) == 21610
    assert refused.json()["message"] == "Attempt to send to unsubscribed recipient"

    await twilio.send_inbound(webhook_url=webhook, from_=TEXTER, to=SENDER, body="START")
    assert (await send(twilio, To=TEXTER, Body="welcome back")).status_code == 201
    # The texts reach the webhook anyway, as Twilio forwards them.
    assert [p.fields["Body"] for p in receiver.at("/sms")] == ["  stop ", "START"]

    await twilio.send_inbound(webhook_url=webhook, from_=TEXTER, to=SENDER, body="yes")
    assert not twilio.is_opted_out(TEXTER)
    twilio.opt_out(TEXTER)
    await twilio.send_inbound(webhook_url=webhook, from_=TEXTER, to=SENDER, body="Yes")
    assert not twilio.is_opted_out(TEXTER)


async def test_fail_next_500_twice_then_success(twilio: FakeTwilio) -> None:
    """fail_next(times=2) fails exactly two sends with 20500, then sends succeed."""
    twilio.fail_next(TEXTER, 500, times=2)
    first = await send(twilio, To=TEXTER, Body="try")
    second = await send(twilio, To=TEXTER, Body="try")
    third = await send(twilio, To=TEXTER, Body="try")
    assert [r.status_code for r in (first, second, third)] == [500, 500, 201]
    assert twilio_error(first) == twilio_error(second) == 20500
    assert [(a.status, a.code) for a in twilio.attempts] == [
        (500, 20500),
        (500, 20500),
        (201, None),
    ]
    assert len(twilio.messages_to(TEXTER)) == 1


async def test_an_outage_fails_every_messages_request_until_it_ends(twilio: FakeTwilio) -> None:
    """start_outage: sends, lookups and lists answer 500/20500 for anyone, until it is over."""
    sid = (await send(twilio, To=TEXTER, Body="before")).json()["sid"]
    twilio.start_outage(600)
    fetch_url = f"{twilio.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json"
    async with httpx.AsyncClient(auth=(ACCOUNT, TOKEN)) as client:
        fetched = await client.get(fetch_url)
        listed = await client.get(messages_url(twilio))
    sends = [await send(twilio, To=phone, Body="during") for phone in (TEXTER, "+14155550199")]
    assert [r.status_code for r in (fetched, listed, *sends)] == [500] * 4
    assert {twilio_error(r) for r in (fetched, listed, *sends)} == {20500}
    assert [(a.body, a.status, a.code) for a in twilio.attempts[1:]] == [("during", 500, 20500)] * 2
    assert twilio.fetches == [sid]
    twilio.end_outage()
    assert (await send(twilio, To=TEXTER, Body="after")).status_code == 201
    assert [m.body for m in twilio.messages] == ["before", "after"]


async def test_an_outage_can_answer_another_status(twilio: FakeTwilio) -> None:
    """start_outage(status=429) throttles every send with 20429; a zero-length one is over."""
    twilio.start_outage(600, status=429)
    assert twilio_error(await send(twilio, To=TEXTER, Body="x")) == 20429
    twilio.start_outage(0)
    assert (await send(twilio, To=TEXTER, Body="x")).status_code == 201


async def test_lost_callbacks_are_not_posted_but_the_status_moves_on(
    twilio: FakeTwilio, receiver: Receiver
) -> None:
    """callbacks_lost: no status callback arrives, yet a lookup shows the message delivered."""
    twilio.callbacks_lost = True
    callback = f"{receiver.base_url}/status"
    sid = (await send(twilio, To=TEXTER, Body="hi", StatusCallback=callback)).json()["sid"]
    await eventually(lambda: twilio.messages[0].status == "delivered")
    url = f"{twilio.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json"
    async with httpx.AsyncClient() as client:
        fetched = await client.get(url, auth=(ACCOUNT, TOKEN))
    assert fetched.json()["status"] == "delivered"
    assert receiver.at("/status") == []
    assert twilio.callbacks == []
    twilio.reset()
    assert twilio.callbacks_lost is False


async def test_fail_next_with_code_and_only_for_that_number(twilio: FakeTwilio) -> None:
    """An injected 429/20429 hits only the named recipient."""
    twilio.fail_next(TEXTER, 429)
    other = await send(twilio, To="+14155550199", Body="x")
    limited = await send(twilio, To=TEXTER, Body="x")
    assert other.status_code == 201
    assert limited.status_code == 429
    assert twilio_error(limited) == 20429


async def test_timeout_next_makes_the_client_give_up(twilio: FakeTwilio) -> None:
    """A hung send times the client out, is not accepted, and the next send works."""
    twilio.timeout_next(TEXTER, seconds=30.0)
    with pytest.raises(httpx.ReadTimeout):
        await send(twilio, To=TEXTER, Body="slow", client_timeout=0.2)
    assert (await send(twilio, To=TEXTER, Body="fast")).status_code == 201
    await eventually(lambda: len(twilio.attempts) == 2)
    assert [(a.body, a.status) for a in twilio.attempts] == [("slow", None), ("fast", 201)]
    assert [m.body for m in twilio.messages] == ["fast"]


async def test_callbacks_arrive_signed_and_in_order(twilio: FakeTwilio, receiver: Receiver) -> None:
    """StatusCallback gets sent→delivered, each signed over the exact callback URL.

    As Twilio documents, the initial status (queued) gets no callback.
    """
    callback = f"{receiver.base_url}/status?tenant=1"
    sid = (await send(twilio, To=TEXTER, Body="hi", StatusCallback=callback)).json()["sid"]
    await eventually(lambda: len(receiver.at("/status")) == 2)

    posts = receiver.at("/status")
    assert [p.fields["MessageStatus"] for p in posts] == ["sent", "delivered"]
    for post in posts:
        assert is_valid_signature(TOKEN, callback, post.form, post.signature)
        assert not is_valid_signature(
            TOKEN, f"{receiver.base_url}/status", post.form, post.signature
        )
        f = post.fields
        assert (f["MessageSid"], f["SmsSid"], f["SmsStatus"]) == (sid, sid, f["MessageStatus"])
        assert (f["AccountSid"], f["From"], f["To"], f["ApiVersion"]) == (
            ACCOUNT,
            SENDER,
            TEXTER,
            "2010-04-01",
        )
        assert "ErrorCode" not in f
    assert twilio.messages[0].status == "delivered"


async def test_callbacks_wait_callback_delay_between_steps(
    twilio: FakeTwilio, receiver: Receiver
) -> None:
    """callback_delay spaces the status steps out in time."""
    twilio.callback_delay = 0.05
    started = time.monotonic()
    await send(twilio, To=TEXTER, Body="hi", StatusCallback=f"{receiver.base_url}/slow")
    await eventually(lambda: len(receiver.at("/slow")) == 2)
    assert time.monotonic() - started >= 0.1


@pytest.mark.parametrize(
    ("code", "statuses"),
    [
        (30003, ["sent", "undelivered"]),
        (30007, ["sent", "undelivered"]),
        (30008, ["failed"]),
    ],
)
async def test_fail_delivery_ends_with_error_code(
    twilio: FakeTwilio, receiver: Receiver, code: int, statuses: list[str]
) -> None:
    """fail_delivery accepts the send but ends undelivered (30003–30007) or failed (30008)."""
    twilio.fail_delivery(TEXTER, code)
    callback = f"{receiver.base_url}/dlr"
    response = await send(twilio, To=TEXTER, Body="hi", StatusCallback=callback)
    assert response.status_code == 201
    await eventually(lambda: len(receiver.at("/dlr")) == len(statuses))

    posts = receiver.at("/dlr")
    assert [p.fields["MessageStatus"] for p in posts] == statuses
    assert posts[-1].fields["ErrorCode"] == str(code)
    assert all("ErrorCode" not in p.fields for p in posts[:-1])
    assert is_valid_signature(TOKEN, callback, posts[-1].form, posts[-1].signature)
    [message] = twilio.messages
    assert (message.status, message.error_code) == (statuses[-1], code)


async def test_failing_callback_is_swallowed(twilio: FakeTwilio) -> None:
    """An unreachable StatusCallback is recorded as failed and does not stop delivery."""
    await send(twilio, To=TEXTER, Body="hi", StatusCallback="http://127.0.0.1:9/unreachable")
    await eventually(lambda: len(twilio.callbacks) == 2)
    assert [c.status for c in twilio.callbacks] == [None, None]
    assert twilio.messages[0].status == "delivered"


async def test_send_inbound_builds_signed_form_with_all_media(
    twilio: FakeTwilio, receiver: Receiver
) -> None:
    """send_inbound posts Twilio's inbound form, signed, with MediaUrl0..N for every item."""
    media = [
        (b"\x89PNG first", "image/png"),
        (b"GIF89a", "image/gif"),
        (b"\xff\xd8jpeg", "image/jpeg"),
    ]
    webhook = f"{receiver.base_url}/sms?source=test"
    response = await twilio.send_inbound(
        webhook_url=webhook, from_=TEXTER, to=SENDER, body="Here are my screenshots", media=media
    )
    assert response.status_code == 200

    [post] = receiver.at("/sms")
    assert is_valid_signature(TOKEN, webhook, post.form, post.signature)
    f = post.fields
    assert re.fullmatch(r"MM[0-9a-f]{32}", f["MessageSid"])
    assert f["SmsSid"] == f["SmsMessageSid"] == f["MessageSid"]
    assert (f["AccountSid"], f["From"], f["To"]) == (ACCOUNT, TEXTER, SENDER)
    assert (f["Body"], f["NumMedia"], f["NumSegments"]) == ("Here are my screenshots", "3", "1")
    assert (f["ApiVersion"], f["FromCountry"]) == ("2010-04-01", "US")
    assert "MessagingServiceSid" not in f
    prefix = f"{twilio.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages/{f['MessageSid']}/Media/ME"
    assert [f[f"MediaContentType{i}"] for i in range(3)] == ["image/png", "image/gif", "image/jpeg"]
    assert all(f[f"MediaUrl{i}"].startswith(prefix) for i in range(3))
    assert len({f[f"MediaUrl{i}"] for i in range(3)}) == 3
    assert "MediaUrl3" not in f

    async with httpx.AsyncClient(auth=(ACCOUNT, TOKEN), follow_redirects=True) as client:
        for i, (data, content_type) in enumerate(media):
            fetched = await client.get(f[f"MediaUrl{i}"])
            assert fetched.content == data
            assert fetched.headers["content-type"].startswith(content_type)


async def test_send_inbound_signs_over_signature_url_and_keeps_extras(
    twilio: FakeTwilio, receiver: Receiver
) -> None:
    """signature_url (the public URL behind a proxy) is what gets signed; extra adds fields."""
    public = "https://desk.example.org/twilio/sms"
    await twilio.send_inbound(
        webhook_url=f"{receiver.base_url}/sms",
        signature_url=public,
        from_=TEXTER,
        to=SENDER,
        body="hi",
        message_sid="SM" + "a" * 32,
        extra={"FromCity": "SAN FRANCISCO", "OptOutType": "HELP"},
    )
    [post] = receiver.at("/sms")
    assert is_valid_signature(TOKEN, public, post.form, post.signature)
    assert not is_valid_signature(TOKEN, f"{receiver.base_url}/sms", post.form, post.signature)
    assert post.fields["MessageSid"] == "SM" + "a" * 32
    assert (post.fields["FromCity"], post.fields["OptOutType"]) == ("SAN FRANCISCO", "HELP")


async def test_media_needs_auth_and_is_served_via_redirect(
    twilio: FakeTwilio, receiver: Receiver
) -> None:
    """Media URLs 401 without auth, 307 to /Content with it, and 404 when unknown."""
    await twilio.send_inbound(
        webhook_url=f"{receiver.base_url}/sms",
        from_=TEXTER,
        to=SENDER,
        media=[(b"picture-bytes", "image/jpeg")],
    )
    url = receiver.at("/sms")[0].fields["MediaUrl0"]
    async with httpx.AsyncClient() as client:
        anonymous = await client.get(url, follow_redirects=True)
        redirect = await client.get(url, auth=(ACCOUNT, TOKEN))
        content_anonymous = await client.get(f"{url}/Content")
        followed = await client.get(url, auth=(ACCOUNT, TOKEN), follow_redirects=True)
        unknown = await client.get(url[:-4] + "0000", auth=(ACCOUNT, TOKEN))
    assert anonymous.status_code == 401
    assert twilio_error(anonymous) == 20003
    assert redirect.status_code == 307
    assert httpx.URL(url).join(redirect.headers["location"]) == httpx.URL(f"{url}/Content")
    assert content_anonymous.status_code == 401
    assert followed.status_code == 200
    assert [r.status_code for r in followed.history] == [307]
    assert (followed.content, followed.headers["content-type"]) == (b"picture-bytes", "image/jpeg")
    assert twilio_error(unknown) == 20404


async def test_works_mounted_under_a_prefix() -> None:
    """Mounted at /sandbox/twilio in a host app, sends, inbound and media redirects work."""
    posted: list[str] = []

    async def webhook(request: Request) -> Response:
        url = (await request.form())["MediaUrl0"]
        assert isinstance(url, str)
        posted.append(url)
        return Response("<Response/>", media_type="text/xml")

    async def host_app(scope: Scope, receive: Receive, send_: Send) -> None:
        await host(scope, receive, send_)

    # The stand-in's own requests go back into the host app, as in sandbox mode.
    fake = FakeTwilio(ACCOUNT, TOKEN, transport=httpx.ASGITransport(app=host_app))
    host = Starlette(
        routes=[Mount("/sandbox/twilio", app=fake.app), Route("/sms", webhook, methods=["POST"])]
    )
    fake.base_url = "http://desk.test/sandbox/twilio"

    await fake.send_inbound(
        webhook_url="http://desk.test/sms", from_=TEXTER, to=SENDER, media=[(b"img", "image/png")]
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=host), auth=(ACCOUNT, TOKEN), follow_redirects=True
    ) as client:
        created = await client.post(
            messages_url(fake), data={"To": TEXTER, "From": SENDER, "Body": "hi"}
        )
        media = await client.get(posted[0])
    assert created.status_code == 201
    assert (media.status_code, media.content) == (200, b"img")
    assert str(media.url).startswith("http://desk.test/sandbox/twilio/2010-04-01/Accounts/")
    assert str(media.url).endswith("/Content")
    await eventually(lambda: fake.messages[0].status == "delivered")


def test_wait_for_messages_sync_reports_what_arrived(twilio: FakeTwilio) -> None:
    """The sync waiter returns the messages, or fails listing what was received."""
    with httpx.Client(auth=(ACCOUNT, TOKEN)) as client:
        client.post(messages_url(twilio), data={"To": TEXTER, "From": SENDER, "Body": "one"})
    assert [m.body for m in twilio.wait_for_messages_sync(1, to=TEXTER, timeout=2)] == ["one"]
    with pytest.raises(AssertionError, match="expected 2 message"):
        twilio.wait_for_messages_sync(2, timeout=0.05)


async def test_wait_for_messages_waits_for_late_sends(twilio: FakeTwilio) -> None:
    """The async waiter returns once enough messages to that number were accepted."""
    later = asyncio.create_task(send(twilio, To=TEXTER, Body="late"))
    got = await twilio.wait_for_messages(1, to=TEXTER, timeout=5)
    await later
    assert [m.body for m in got] == ["late"]
    twilio.clear()
    assert twilio.messages == []
    assert twilio.attempts == []


def test_fixed_clock_stands_still_until_advanced() -> None:
    """FixedClock is tz-aware UTC and only moves when advanced or set."""
    clock = FixedClock()
    start = clock.now()
    assert start.tzinfo is not None
    assert start.utcoffset() == timedelta(0)
    assert clock.now() == start
    assert (clock.advance(90) - start).total_seconds() == 90
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


async def test_aserve_runs_inside_the_event_loop() -> None:
    """aserve() serves the stand-in on the test's own loop and sets base_url."""
    async with FakeTwilio(ACCOUNT, TOKEN).aserve() as fake:
        assert fake.base_url.startswith("http://127.0.0.1:")
        response = await send(fake, To=TEXTER, Body="hi")
        assert response.status_code == 201
        await fake.wait_for_messages(1, to=TEXTER, timeout=2)
    assert fake.base_url == ""


async def test_a_messaging_service_send_reports_queued_after_accepted(
    twilio: FakeTwilio, receiver: Receiver
) -> None:
    """Through a Messaging Service the initial status is accepted, so queued gets a callback."""
    callback = f"{receiver.base_url}/svc"
    async with httpx.AsyncClient(auth=(ACCOUNT, TOKEN)) as client:
        response = await client.post(
            messages_url(twilio),
            data={
                "To": TEXTER,
                "MessagingServiceSid": "MG" + "1" * 32,
                "Body": "hi",
                "StatusCallback": callback,
            },
        )
    assert response.json()["status"] == "accepted"
    await eventually(lambda: len(receiver.at("/svc")) == 3)
    statuses = [p.fields["MessageStatus"] for p in receiver.at("/svc")]
    assert statuses == ["queued", "sent", "delivered"]
