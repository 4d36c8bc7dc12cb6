"""Who is really asking: the peer, or the client a trusted proxy says it forwarded for.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only when the peer is one
of ``TEXTDESK_TRUSTED_PROXIES``; from anyone else they are whatever the client chose
to write, and believing them would let one machine pass for as many addresses as it
likes (the sign-in limits count per address).  ``textdesk serve`` turns uvicorn's own
handling off (it trusts loopback by default), so this is the one place that decides.

Through a chain of proxies the header is read from the right: each trusted proxy
appends the address it saw, so the right-most address that is not a trusted proxy
is the client.  Anything to its left was written by the client and is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from textdesk.config import Network


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as proxies write it: bare, ``1.2.3.4:port`` or ``[v6]:port``."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, trusted: Sequence[Network]
) -> bool:
    return ip is not None and any(ip.version == n.version and ip in n for n in trusted)


def client_address(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: ``peer``, unless ``peer`` is a trusted proxy.

    ``forwarded_for`` are the ``X-Forwarded-For`` header's values, in order.  An entry
    that is not an address, met before any untrusted one, was written by a trusted
    proxy that did not know better: the proxy's own address is used then.
    """
    if not _trusted(_ip(peer), trusted):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    nearest = peer
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            return nearest
        nearest = str(ip)
        if not _trusted(ip, trusted):
            return nearest
    return nearest  # every hop is a proxy of ours: the furthest one asked


class ForwardedHeaders:
    """ASGI middleware: the request's client and scheme as the trusted proxy saw them."""

    def __init__(self, app: ASGIApp, *, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer = scope["client"][0]
            if _trusted(_ip(peer), self.trusted):
                forwarded: list[str] = []
                proto = None
                for name, value in scope["headers"]:
                    if name == b"x-forwarded-for":
                        forwarded.append(value.decode("latin-1"))
                    elif name == b"x-forwarded-proto":
                        proto = value.decode("latin-1").strip().lower()
                scope = dict(scope)
                scope["client"] = (client_address(peer, forwarded, self.trusted), 0)
                if proto in ("http", "https"):
                    scope["scheme"] = (
                        proto if scope["type"] == "http" else proto.replace("http", "ws")
                    )
        await self.app(scope, receive, send)
