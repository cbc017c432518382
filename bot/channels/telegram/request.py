"""PTB's HTTP transport on aiohttp instead of HTTPX.

PTB lets any :class:`~telegram.request.BaseRequest` carry its calls to the Bot
API. Its default, HTTPX, was the bottleneck in bench/telegram_webhook.py:
about 5 times slower than an aiohttp client for one request at a time on this
machine, and slower still as requests overlap (about 60 sendMessage a second
with 64 in flight, against about 1,500 for aiohttp). aiohttp is already the
server we run, so the bot makes its calls with the same library.

Behaviour follows HTTPXRequest: form-encoded parameters (multipart when a file
is uploaded), PTB's timeouts (aiohttp has no write timeout; the overall
``connect`` timeout covers waiting for a free connection and connecting), and
errors mapped to PTB's :class:`~telegram.error.TimedOut` and
:class:`~telegram.error.NetworkError`. Error messages carry the exception's
type only: aiohttp's own messages can include the request URL, which holds
the bot token.
"""

from __future__ import annotations

import asyncio
import functools

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


def _value(given, default: float | None) -> float | None:
    return default if isinstance(given, DefaultValue) else given


class AiohttpRequest(BaseRequest):
    """A pooled aiohttp client session for PTB's Bot."""

    __slots__ = ("_pool_size", "_read", "_write", "_connect", "_pool", "_session")

    def __init__(
        self,
        connection_pool_size: int = 128,
        read_timeout: float | None = 10.0,
        write_timeout: float | None = 10.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 5.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout=BaseRequest.DEFAULT_NONE,
        write_timeout=BaseRequest.DEFAULT_NONE,
        connect_timeout=BaseRequest.DEFAULT_NONE,
        pool_timeout=BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            await self.initialize()
        assert self._session is not None
        connect = _value(connect_timeout, self._connect)
        pool = _value(pool_timeout, self._pool)
        timeout = _timeout(connect, pool, _value(read_timeout, self._read))
        try:
            async with self._session.request(method, url, data=_body(request_data), timeout=timeout) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as err:
            raise TimedOut(f"aiohttp.{type(err).__name__}") from None
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}") from None


@functools.lru_cache(maxsize=32)
def _timeout(connect: float | None, pool: float | None, read: float | None) -> aiohttp.ClientTimeout:
    """A handful of timeout combinations recur; aiohttp's attrs-built ClientTimeout is not free."""
    return aiohttp.ClientTimeout(
        total=None,
        connect=None if connect is None and pool is None else (connect or 0) + (pool or 0),
        sock_connect=connect,
        sock_read=read,
    )


def _body(request_data: RequestData | None):
    if request_data is None:
        return None
    fields = {k: v for k, v in request_data.json_parameters.items() if v is not None}
    if not request_data.contains_files:
        return fields
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        if isinstance(part, tuple):
            filename, content, mimetype = part
            form.add_field(name, content, filename=filename, content_type=mimetype)
        else:
            form.add_field(name, part)
    return form
