"""Which failed sends may have reached Twilio: those are checked before any resend."""

from __future__ import annotations

import httpx
import pytest

from textdesk.adapters.twilio.rest import TwilioRestGateway


def _failing(exc: type[httpx.TransportError]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc("simulated", request=request)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("error", "ambiguous"),
    [
        (httpx.ConnectError, False),  # nothing left this machine
        (httpx.ConnectTimeout, False),
        (httpx.PoolTimeout, False),
        (httpx.ReadTimeout, True),  # sent; the answer was lost
        (httpx.ReadError, True),  # e.g. a kept-alive connection the server had closed
        (httpx.RemoteProtocolError, True),
        (httpx.WriteError, True),  # part of the request may have arrived
    ],
)
async def test_a_lost_answer_is_in_doubt_a_refused_connection_is_not(
    error: type[httpx.TransportError], ambiguous: bool
) -> None:
    async with httpx.AsyncClient(transport=_failing(error)) as client:
        gateway = TwilioRestGateway(
            client, api_url="https://api.example", account_sid="AC1", auth_token="t"
        )
        result = await gateway.send(
            to="+15551230001", from_="+15550100100", body="hi", media_urls=[], status_callback=None
        )
    assert result.http_status is None
    assert result.ambiguous is ambiguous
