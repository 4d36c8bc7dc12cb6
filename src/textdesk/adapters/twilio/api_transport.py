"""A lean HTTP/1.1 transport for httpx, for the small JSON calls to Twilio's REST API.

httpx's default transport (httpcore over anyio) cost more CPU per text than the rest
of the pipeline: every request placed in its pool re-checks every pooled
connection through anyio's attribute lookups and a ``poll()``, and each read and
write goes through anyio's stream layers.  Twilio's API needs little of that: a
request is a few hundred bytes, an answer a small JSON document.  This transport
speaks HTTP/1.1 on asyncio streams, keeps idle connections per origin (newest
first), and otherwise behaves as httpx's own transport does towards the client:
the same timeouts (connect, write, pool; read bounds the whole answer, which here
is one small document) and the same exception types, so the gateway's handling of
timeouts, in-doubt sends and transport errors is unchanged.  httpx still does the
rest (auth, redirects, decoding, proxies from the environment, which it serves
with its own transports).

Kept because a maintained client measured worse (2026-12-02; the rule is to use
one unless it costs the end-to-end figure more than 10%).  The candidate kept
httpx for the gateway and let aiohttp's ``ClientSession`` do the HTTP under it (an
``httpx.AsyncBaseTransport`` over aiohttp, its errors mapped to these same httpx
types).  ``python -m benchmarks.webhook --only textdesk --duration 5 --repeat 2``,
row "textdesk, sending too", the two versions run alternately in one session on a
shared 2-core machine, four pairs (aiohttp / this, requests/s): 229/362, 368/514,
423/444, 400/403, ratios 0.63, 0.72, 0.95, 0.99, median ratio 0.84 (medians 384
and 424 req/s); server CPU per request 1.02 against 0.84 ms (median of the pairs'
ratios 1.26), CPU per text 2.30 against 2.06 ms.  Alone, the client side of a
POST to a loopback server cost about 400 µs of CPU on aiohttp under httpx against
270 µs here.  httpx's own transport was worse still (219 against 436 req/s, one
pair).  aiohttp's ``ClientSession`` used directly, without httpx, cost about
130 µs for the same POST: the way to drop this module is the gateway on aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import urllib.request
from dataclasses import dataclass

import httpx

# Idle connections older than this are dropped rather than reused (httpcore's default).
KEEPALIVE_EXPIRY = 5.0
_MAX_HEADER_BYTES = 64 * 1024


def proxied(url: str) -> bool:
    """Whether ``HTTP(S)_PROXY``/``ALL_PROXY`` (less ``NO_PROXY``) would route ``url``."""
    proxies = urllib.request.getproxies()
    target = httpx.URL(url)
    if not (proxies.get(target.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(target.host)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def reusable(self, now: float) -> bool:
        # The loop keeps reading an idle socket, so a peer's close shows up here
        # without the system call httpcore makes per pooled connection per request.
        return (
            now - self.idle_since < KEEPALIVE_EXPIRY
            and not self.reader.at_eof()
            and not self.writer.transport.is_closing()
        )

    def close(self) -> None:
        self.writer.close()


class _ProtocolError(Exception):
    pass


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over asyncio streams; at most ``max_connections`` at once."""

    def __init__(self, *, max_connections: int = 20, ssl_context: ssl.SSLContext | None = None):
        self._max = max_connections
        self._ssl = ssl_context
        self._idle: dict[tuple[bytes, bytes, int], list[_Connection]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        # Tests run one event loop each; connections and waiters belong to one loop.
        loop = asyncio.get_running_loop()
        if self._slots is None or loop is not self._loop:
            self._drop_idle()
            self._loop, self._slots = loop, asyncio.Semaphore(self._max)
        return self._slots

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        slots = self._semaphore()
        # asyncio.timeout rather than wait_for throughout: on Python 3.11 wait_for can
        # swallow a cancel that arrives as the awaited thing completes.
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout("no free connection in time", request=request) from exc
        try:
            return await self._exchange(request, timeouts)
        finally:
            slots.release()

    async def _exchange(
        self, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80))
        body = await request.aread()
        head = [f"{request.method} ".encode(), url.raw_path, b" HTTP/1.1\r\n"]
        for name, value in request.headers.raw:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        conn = self._checkout(origin) or await self._connect(request, origin, timeouts)
        keep = False
        try:
            try:
                conn.writer.write(b"".join(head) + body)
                async with asyncio.timeout(timeouts.get("write")):
                    await conn.writer.drain()
            except TimeoutError as exc:
                raise httpx.WriteTimeout("timed out writing the request", request=request) from exc
            except OSError as exc:
                raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from exc
            try:
                async with asyncio.timeout(timeouts.get("read")):
                    status, reason, headers, content, keep = await _read_response(
                        conn.reader, request.method
                    )
            except TimeoutError as exc:
                raise httpx.ReadTimeout("timed out reading the answer", request=request) from exc
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
            except _ProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        finally:
            if keep:
                conn.idle_since = time.monotonic()
                self._idle.setdefault(origin, []).append(conn)
            else:
                conn.close()
        return httpx.Response(
            status,
            headers=headers,
            content=content,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    def _checkout(self, origin: tuple[bytes, bytes, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.reusable(now):
                return conn
            conn.close()
        return None

    async def _connect(
        self,
        request: httpx.Request,
        origin: tuple[bytes, bytes, int],
        timeouts: dict[str, float | None],
    ) -> _Connection:
        scheme, host, port = origin
        secure = scheme == b"https"
        if secure and self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        try:
            async with asyncio.timeout(timeouts.get("connect")):
                reader, writer = await asyncio.open_connection(
                    host.decode("ascii"),
                    port,
                    ssl=self._ssl if secure else None,
                    limit=_MAX_HEADER_BYTES,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout("timed out connecting", request=request) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        return _Connection(reader, writer)

    def _drop_idle(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                with contextlib.suppress(Exception):
                    conn.close()
        self._idle.clear()

    async def aclose(self) -> None:
        self._drop_idle()


async def _read_response(
    reader: asyncio.StreamReader, method: str
) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes, bool]:
    """One answer: status, reason, headers, body, and whether the connection stays open."""
    while True:
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw[:-4].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise _ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        status = int(parts[1])
        if status >= 200 or status == 101:
            break  # 1xx (100 Continue, 103 Early Hints) precede the real answer
    headers: list[tuple[bytes, bytes]] = []
    length: int | None = None
    chunked = False
    keep = parts[0] == b"HTTP/1.1"
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise _ProtocolError(f"malformed header line: {line[:80]!r}")
        name, value = name.strip(), value.strip()
        headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length":
            if not value.isdigit():
                raise _ProtocolError("bad Content-Length")
            length = int(value)
        elif lowered == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif lowered == b"connection":
            tokens = value.lower()
            if b"close" in tokens:
                keep = False
            elif b"keep-alive" in tokens:
                keep = True
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return status, _reason(parts), headers, b"", keep
    if chunked:
        body = await _read_chunked(reader)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body = await reader.read()  # until the server closes
        keep = False
    return status, _reason(parts), headers, body, keep


def _reason(parts: list[bytes]) -> bytes:
    return parts[2] if len(parts) > 2 else b""


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise _ProtocolError("bad chunk size") from exc
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers, ignored
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise _ProtocolError("chunk not followed by CRLF")
