"""Behind a TLS proxy each person still gets their own socket bucket, and nobody can forge one.

The test client always connects from 127.0.0.1, so "through a trusted proxy"
means FRONTDOOR_TRUSTED_PROXIES names 127.0.0.1, and "an untrusted peer" means
it does not.
"""

from __future__ import annotations

import aiohttp
import pytest

from bot.channels.webchat_socket import SOCKETS_PER_MINUTE
from tests.webchat.conftest import serve

CLIENT_A = "198.51.100.7"
CLIENT_B = "198.51.100.8"


async def open_socket(http: aiohttp.ClientSession, served, forwarded_for: str | None) -> int:
    """Open the chat socket once; 101 if it opened, else the refusal's status."""
    headers = {"Origin": served.url.rstrip("/")}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    try:
        async with http.ws_connect(served.url + "chat/ws", headers=headers):
            return 101
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status


async def test_two_clients_behind_a_trusted_proxy_get_separate_buckets(tmp_path):
    async with serve(tmp_path, FRONTDOOR_TRUSTED_PROXIES="127.0.0.1") as served:
        async with aiohttp.ClientSession() as http:
            opened = [await open_socket(http, served, CLIENT_A) for _ in range(SOCKETS_PER_MINUTE)]
            assert opened == [101] * SOCKETS_PER_MINUTE
            assert await open_socket(http, served, CLIENT_A) == 429
            assert await open_socket(http, served, CLIENT_B) == 101


@pytest.mark.parametrize("trusted", ["", "192.0.2.1, 10.0.0.0/8"], ids=["nothing trusted", "another proxy trusted"])
async def test_forged_forwarded_for_from_an_untrusted_peer_is_not_believed_nor_refused(tmp_path, trusted):
    async with serve(tmp_path, FRONTDOOR_TRUSTED_PROXIES=trusted) as served:
        async with aiohttp.ClientSession() as http:
            opened = [await open_socket(http, served, f"203.0.113.{i}") for i in range(SOCKETS_PER_MINUTE)]
            assert opened == [101] * SOCKETS_PER_MINUTE  # the header alone is no reason to refuse anyone
            assert await open_socket(http, served, "203.0.113.200") == 429
            assert await open_socket(http, served, None) == 429  # it was this peer's bucket all along


async def test_in_a_chain_the_right_most_untrusted_address_is_the_client(tmp_path):
    """Proxy 10.0.0.2 forwards to 127.0.0.1; whatever the client put to the left of itself is ignored."""
    async with serve(tmp_path, FRONTDOOR_TRUSTED_PROXIES="127.0.0.1,10.0.0.0/8") as served:
        async with aiohttp.ClientSession() as http:
            forged = [f"203.0.113.{i}, {CLIENT_A}, 10.0.0.2" for i in range(SOCKETS_PER_MINUTE)]
            assert [await open_socket(http, served, chain) for chain in forged] == [101] * SOCKETS_PER_MINUTE
            assert await open_socket(http, served, f"{CLIENT_A}, 10.0.0.2") == 429
            assert await open_socket(http, served, f"{CLIENT_B}, 10.0.0.2") == 101


async def test_an_unreadable_forwarded_header_from_the_proxy_is_not_refused(tmp_path):
    """A client can make the proxy pass on junk; it still gets the chat, in the proxy's own bucket."""
    async with serve(tmp_path, FRONTDOOR_TRUSTED_PROXIES="127.0.0.1") as served:
        async with aiohttp.ClientSession() as http:
            junk = [f"not-an-address-{i}" for i in range(SOCKETS_PER_MINUTE)]
            assert [await open_socket(http, served, j) for j in junk] == [101] * SOCKETS_PER_MINUTE
            assert await open_socket(http, served, "more junk") == 429  # junk does not mint buckets
            assert await open_socket(http, served, CLIENT_A) == 101
