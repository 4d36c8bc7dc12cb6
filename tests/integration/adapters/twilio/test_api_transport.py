"""The lean HTTP/1.1 transport used for Twilio's REST API, against a raw loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from textdesk.adapters.twilio.api_transport import LeanTransport, proxied


class Server:
    """Answers each request on a connection with the next of ``answers``."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.answers: list[bytes] = []
        self.stall = False
        self.drop = False
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                self.requests.append(head + await reader.readexactly(length))
                if self.drop:
                    break
                if self.stall:
                    await asyncio.sleep(5)
                answer = self.answers.pop(0)
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def close(self) -> None:
        assert self._server is not None
        self._server.close()


@pytest.fixture
async def server() -> AsyncIterator[tuple[Server, httpx.AsyncClient]]:
    srv = Server()
    url = await srv.start()
    client = httpx.AsyncClient(
        base_url=url, timeout=httpx.Timeout(1.0), transport=LeanTransport(max_connections=2)
    )
    yield srv, client
    await client.aclose()
    srv.close()


def _json(body: bytes, *extra: bytes) -> bytes:
    head = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
    return head + b"".join(extra) + b"Content-Length: %d\r\n\r\n" % len(body) + body


async def test_keep_alive_connection_is_reused(server: tuple[Server, httpx.AsyncClient]) -> None:
    """Two calls in a row share one connection; the form body arrives intact."""
    srv, client = server
    srv.answers += [_json(b'{"sid": "SM1"}'), _json(b'{"sid": "SM2"}')]
    first = await client.post("/m", content=b"To=%2B1&Body=hi", auth=("AC1", "tok"))
    second = await client.post("/m", content=b"To=%2B1&Body=again")
    assert (first.status_code, first.json(), first.reason_phrase) == (
        201,
        {"sid": "SM1"},
        "Created",
    )
    assert second.json() == {"sid": "SM2"}
    assert srv.connections == 1
    assert srv.requests[0].endswith(b"\r\n\r\nTo=%2B1&Body=hi")
    assert b"\r\nauthorization: basic " in srv.requests[0].lower()


async def test_chunked_answer_and_connection_close(
    server: tuple[Server, httpx.AsyncClient],
) -> None:
    """A chunked body is joined; after Connection: close the next call reconnects."""
    srv, client = server
    chunked = (
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b'5\r\n{"cod\r\n12\r\ne": 21211, "x": 1}\r\n0\r\n\r\n'
    )
    srv.answers += [chunked, _json(b"{}")]
    answer = await client.post("/m", content=b"a=1")
    assert answer.status_code == 400
    assert answer.json() == {"code": 21211, "x": 1}
    await client.post("/m", content=b"a=2")
    assert srv.connections == 2


async def test_a_slow_answer_is_a_read_timeout(server: tuple[Server, httpx.AsyncClient]) -> None:
    """No answer within the read timeout: httpx.ReadTimeout, as httpx's own transport raises."""
    srv, client = server
    srv.stall = True
    srv.answers.append(_json(b"{}"))
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/m", content=b"a=1")


async def test_nothing_listening_is_a_connect_error() -> None:
    """A refused connection is httpx.ConnectError (not sent: safe to retry)."""
    srv = Server()
    url = await srv.start()
    srv.close()
    await asyncio.sleep(0)
    async with httpx.AsyncClient(transport=LeanTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(f"{url}/m", content=b"a=1")


async def test_a_connection_lost_after_the_request_is_in_doubt_and_not_retried(
    server: tuple[Server, httpx.AsyncClient],
) -> None:
    """A kept-alive connection closed once the POST arrived: an in-doubt error, sent once."""
    srv, client = server
    srv.answers.append(_json(b"{}"))
    await client.post("/m", content=b"a=1")
    srv.drop = True
    with pytest.raises(httpx.TransportError) as raised:
        await client.post("/m", content=b"a=2")
    assert isinstance(raised.value, httpx.ReadError | httpx.RemoteProtocolError)
    assert len(srv.requests) == 2
    assert srv.connections == 1


def test_proxied_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only an API URL the environment proxies keeps httpx's own (proxy-aware) transport."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    assert not proxied("https://api.twilio.com")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert proxied("https://api.twilio.com")
    assert not proxied("http://127.0.0.1:9000")
    monkeypatch.setenv("NO_PROXY", "api.twilio.com")
    assert not proxied("https://api.twilio.com")
