"""Forwarded headers: believed only from TEXTDESK_TRUSTED_PROXIES, read from the right."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from textdesk.config import Settings, parse_networks
from textdesk.web.forwarded import client_address

SECRET = "k3Yq8Wv0Lr2Tn5Zp9Xb7Hc1Jd4Mf6Gs-Ue"
PROXIES = parse_networks("127.0.0.1, 10.0.0.0/8, fd00::/8")


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    """From anyone not listed, X-Forwarded-For is ignored."""
    assert client_address("198.51.100.7", ["203.0.113.1"], PROXIES) == "198.51.100.7"
    assert client_address("127.0.0.1", ["203.0.113.1"], ()) == "127.0.0.1"


def test_a_trusted_proxy_names_the_client() -> None:
    """The address the proxy appended is the client's; what the client wrote is not."""
    assert client_address("127.0.0.1", ["203.0.113.1"], PROXIES) == "203.0.113.1"
    # The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended what it saw.
    assert client_address("127.0.0.1", ["1.1.1.1, 203.0.113.1"], PROXIES) == "203.0.113.1"
    # Through two proxies of ours, in two header lines.
    hops = ["1.1.1.1, 203.0.113.1", "10.1.2.3"]
    assert client_address("127.0.0.1", hops, PROXIES) == "203.0.113.1"


def test_ports_brackets_and_mapped_addresses_are_understood() -> None:
    """Proxies write '1.2.3.4:5678', '[v6]:port' and v4-mapped peers; all are addresses."""
    assert client_address("::ffff:127.0.0.1", ["203.0.113.1:5678"], PROXIES) == "203.0.113.1"
    assert client_address("fd00::1", ["[2001:db8::7]:443"], PROXIES) == "2001:db8::7"


def test_garbage_from_a_trusted_proxy_leaves_the_proxy_as_the_client() -> None:
    """No address to believe: every such request counts as the proxy's own."""
    assert client_address("10.0.0.5", ["not-an-ip"], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", [""], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", [], PROXIES) == "10.0.0.5"


def test_trusted_proxies_are_addresses_or_networks() -> None:
    """A typo is refused at start, naming the entry; the default trusts nobody."""
    assert Settings(TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_DEMO=True).trusted_proxy_networks == ()
    settings = Settings(
        TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_DEMO=True, TEXTDESK_TRUSTED_PROXIES="10.0.0.1,fd00::/8"
    )
    assert settings.trusted_proxy_networks == (
        ipaddress.ip_network("10.0.0.1/32"),
        ipaddress.ip_network("fd00::/8"),
    )
    with pytest.raises(ValidationError, match=r"TEXTDESK_TRUSTED_PROXIES: 'proxy\.local'"):
        Settings(
            TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_DEMO=True, TEXTDESK_TRUSTED_PROXIES="proxy.local"
        )
