"""Who is really on the other end when a TLS proxy stands in front of the bot.

The web chat limits new sockets per address. Behind a proxy every request
comes from the proxy, so without this everyone would share one bucket and
twenty people opening the chat in a minute would lock out the twenty-first.
With ``FRONTDOOR_TRUSTED_PROXIES`` set, a request whose immediate peer is on
that list has ``request.remote`` (and scheme and host, from
X-Forwarded-Proto/-Host) replaced by what the proxy says; the client is the
right-most X-Forwarded-For address that is not itself a trusted proxy.

The header parsing is aiohttp-remotes' (``XForwardedFiltered``). This is a
thin wrapper because none of its middlewares does quite what a crisis line
needs on its own:

* ``XForwardedStrict`` answers 400 to a request from an untrusted peer that
  carries X-Forwarded-For, and to one from a trusted peer that does not carry
  exactly one entry per configured hop. Any browser extension or corporate
  proxy can add that header; refusing a person in crisis over it is wrong.
* ``XForwardedFiltered`` never looks at the immediate peer, so a client
  talking straight to the bot could forge an address (a fresh bucket per
  socket). Here it only runs when the peer is trusted.
* Both answer 400 to a header they can't read (a junk entry a client put in
  front of the proxy's). Here such a request keeps the proxy's address: it is
  served, and junk can't mint buckets.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp_remotes import XForwardedFiltered
from aiohttp_remotes.exceptions import RemoteError

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TrustedProxies:
    """Believe forwarded headers only from the listed peers; never refuse a request over them."""

    def __init__(self, networks: Iterable[Network]) -> None:
        self._networks = tuple(networks)
        self._forwarded = XForwardedFiltered(set(self._networks))

    def trusts(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False  # a Unix socket or no peer at all: nothing to trust
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack listener sees ::ffff:10.0.0.2
        return any(ip in net for net in self._networks)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.trusts(request.remote):
            return await handler(request)  # the peer is the client, whatever its headers say
        try:
            # Read the headers as the library will, so what it would refuse is ignored instead.
            self._forwarded.get_forwarded_for(request.headers)
            self._forwarded.get_forwarded_proto(request.headers)
            self._forwarded.get_forwarded_host(request.headers)
        except (RemoteError, web.HTTPBadRequest):
            log.warning("unreadable forwarded header from a trusted proxy; using the proxy's address", extra={"event": "forwarded_unreadable"})
            return await handler(request)
        return await self._forwarded.middleware(request, handler)
