"""A surge at one ``frontdoor serve``: many SMS senders and web chat sockets, all at once.

Used by the suite (a small burst, tests/oncall/test_burst.py) and by
bench/burst.py (the issue's 1,000 senders and 500 sockets). Everything is
released together; each person sends one signed Twilio webhook, or opens a
socket, starts and says one thing. What counts is what a person would see
(a reply with the number, or not) and what the server itself counted as
degraded (``frontdoor_degraded_replies_total`` from its /metrics).

The sockets come through the configured trusted proxy (loopback) with an
``X-Forwarded-For`` each, as 500 people behind the TLS proxy would: the
per-address socket limits then apply to each of them, not to the proxy.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import aiohttp
from twilio.request_validator import RequestValidator

CRISIS_LINE = "0300 131 2789"
TWILIO_TOKEN = "burst-twilio-auth-token-0123456789"


def server_env(redis_url: str) -> dict[str, str]:
    """What the served bot needs for a burst: Redis sessions, Twilio on, loopback as the trusted proxy."""
    return {
        "FRONTDOOR_REDIS_URL": redis_url,
        "FRONTDOOR_HASH_SECRET": "burst-hash-secret-0123456789abcdef",
        "FRONTDOOR_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "FRONTDOOR_TRUSTED_PROXIES": "127.0.0.1",
        "FRONTDOOR_LOG_LEVEL": "ERROR",
    }


@dataclass
class Result:
    sms_latencies: list[float] = field(default_factory=list)
    web_latencies: list[float] = field(default_factory=list)
    without_number: int = 0
    failed: int = 0
    degraded: float = 0.0

    @property
    def answered(self) -> int:
        return len(self.sms_latencies) + len(self.web_latencies)

    @staticmethod
    def p(latencies: list[float], q: float) -> float:
        ordered = sorted(latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else 0.0


async def _sms(http: aiohttp.ClientSession, base: str, n: int, gate: asyncio.Event, result: Result) -> None:
    url = f"{base}/sms/twilio"
    params = {"MessageSid": f"SM{n:032x}", "AccountSid": "AC" + "0" * 32, "From": f"+4477009{n % 100000:05d}", "To": "+447700900999", "Body": "hi", "NumMedia": "0"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    await gate.wait()
    started = time.perf_counter()
    try:
        async with http.post(url, data=params, headers={"X-Twilio-Signature": signature}) as resp:
            body = await resp.text()
            ok = resp.status == 200
    except aiohttp.ClientError:
        result.failed += 1
        return
    result.sms_latencies.append(time.perf_counter() - started)
    if not ok or CRISIS_LINE not in body:
        result.without_number += 1


async def _socket(http: aiohttp.ClientSession, base: str, n: int, gate: asyncio.Event, result: Result) -> None:
    headers = {"Origin": base, "X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"}
    await gate.wait()
    started = time.perf_counter()
    try:
        async with http.ws_connect(f"{base}/chat/ws", headers=headers) as ws:
            await ws.send_json({"type": "start"})
            await ws.send_json({"type": "message", "text": "hi"})
            for _ in range(2):
                while True:
                    frame = json.loads((await ws.receive(timeout=30)).data)
                    if frame["type"] in ("replies", "error"):
                        break
                result.web_latencies.append(time.perf_counter() - started)
                if not any(CRISIS_LINE in r["text"] for r in frame.get("replies", [])) and CRISIS_LINE not in frame.get("text", ""):
                    result.without_number += 1
                started = time.perf_counter()
    except (aiohttp.ClientError, asyncio.TimeoutError, TypeError, ValueError):
        result.failed += 1


async def degraded_count(http: aiohttp.ClientSession, base: str) -> float:
    async with http.get(f"{base}/metrics") as resp:
        text = await resp.text()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("frontdoor_degraded_replies_total"))


async def burst(base: str, senders: int, sockets: int) -> Result:
    """Release ``senders`` SMS webhooks and ``sockets`` web chats at once against ``base``."""
    result = Result()
    gate = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        before = await degraded_count(http, base)
        tasks = [asyncio.create_task(_sms(http, base, n, gate, result)) for n in range(senders)]
        tasks += [asyncio.create_task(_socket(http, base, n, gate, result)) for n in range(sockets)]
        await asyncio.sleep(0.2)  # every task waiting at the gate
        gate.set()
        await asyncio.gather(*tasks)
        result.degraded = await degraded_count(http, base) - before
    return result
