"""``frontdoor probe URL``: a synthetic conversation against a running instance, for blackbox monitoring.

It does what a person would, through the door people use (the web chat
socket), and checks what matters to them:

1. ``/healthz`` answers (the process is alive);
2. ``/readyz`` answers 200 (every readiness check holds; "degraded" passes
   unless ``--strict``);
3. a conversation on ``/chat/ws`` opens and the crisis line number comes
   back in the first reply;
4. the conversation is ended, so the probe leaves no session behind;
5. ``/readyz`` still answers 200 afterwards.

Exit status 0 when all hold, 1 when any fails (each failure is printed), 2
for bad usage. ``--liveness`` does step 1 only, against the local instance by
default: the container image's HEALTHCHECK uses it. The probe prints states
and counts, never the bot's replies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bot import CRISIS_LINE

WS_PATH = "/chat/ws"
PROBE_TEXT = "hello"
END_TEXT = "end"


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    ok: bool
    detail: str = ""


class ProbeFailed(Exception):
    """A step failed; the message says which and why (no reply text)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="check a running instance end to end (health, readiness, a web chat conversation); non-zero exit on failure")
    p.add_argument("url", nargs="?", default="", help="base URL, e.g. https://frontdoor.example.org (default: http://127.0.0.1:$FRONTDOOR_PORT)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds for the whole probe (default 10)")
    p.add_argument("--liveness", action="store_true", help="only check /healthz (for a container HEALTHCHECK)")
    p.add_argument("--strict", action="store_true", help="fail when readiness is 'degraded' too")
    p.add_argument("--quiet", action="store_true", help="print failures only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    url = args.url or f"http://127.0.0.1:{os.environ.get('FRONTDOOR_PORT', '8080')}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        print(f"probe: expected an http:// or https:// URL, got {url!r}", file=sys.stderr)
        return 2
    if args.timeout <= 0:
        print("probe: --timeout must be positive", file=sys.stderr)
        return 2
    steps = asyncio.run(probe(url, timeout=args.timeout, liveness=args.liveness, strict=args.strict))
    for step in steps:
        if not args.quiet or not step.ok:
            print(f"{'ok  ' if step.ok else 'FAIL'} {step.name}{': ' + step.detail if step.detail else ''}", flush=True)
    return 0 if steps and all(s.ok for s in steps) else 1


async def probe(url: str, *, timeout: float = 10.0, liveness: bool = False, strict: bool = False) -> list[Step]:
    """Run the steps in order and stop at the first failure."""
    import aiohttp

    base = url.rstrip("/")
    steps: list[Step] = []
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    try:
        async with asyncio.timeout(timeout), aiohttp.ClientSession(timeout=client_timeout) as http:
            steps.append(await _healthz(http, base))
            if liveness:
                return steps
            steps.append(await _readyz(http, base, strict, "readyz"))
            steps += await _conversation(http, base)
            steps.append(await _readyz(http, base, strict, "readyz after the conversation"))
    except ProbeFailed as exc:
        steps.append(Step(exc.args[0], False, exc.args[1] if len(exc.args) > 1 else ""))
    except TimeoutError:
        steps.append(Step("probe", False, f"no answer within {timeout:g} s"))
    except aiohttp.ClientError as exc:
        steps.append(Step("probe", False, f"cannot reach {base}: {type(exc).__name__}"))
    except OSError as exc:
        steps.append(Step("probe", False, f"cannot reach {base}: {type(exc).__name__}"))
    return steps


async def _healthz(http, base: str) -> Step:
    async with http.get(base + "/healthz") as resp:
        if resp.status != 200:
            raise ProbeFailed("healthz", f"HTTP {resp.status}")
    return Step("healthz", True)


async def _readyz(http, base: str, strict: bool, name: str) -> Step:
    async with http.get(base + "/readyz") as resp:
        try:
            body = await resp.json(content_type=None)
        except (ValueError, json.JSONDecodeError):
            raise ProbeFailed(name, f"HTTP {resp.status}, not the readiness JSON") from None
    status = str(body.get("status", "?")) if isinstance(body, dict) else "?"
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    off = sorted(f"{n}={c.get('state')}" for n, c in checks.items() if isinstance(c, dict) and (not c.get("ok") or c.get("state") != "ok"))
    detail = status + (f" ({', '.join(off)})" if off else "")
    if resp.status != 200 or (strict and status != "ready"):
        raise ProbeFailed(name, f"HTTP {resp.status} {detail}")
    return Step(name, True, detail)


def _ws_url(base: str) -> tuple[str, str]:
    parts = urlsplit(base)
    scheme = "wss" if parts.scheme == "https" else "ws"
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    return urlunsplit((scheme, parts.netloc, parts.path + WS_PATH, "", "")), origin


async def _conversation(http, base: str) -> list[Step]:
    """Open the web chat, check the number comes back, end the session."""
    import aiohttp

    ws_url, origin = _ws_url(base)
    try:
        ws = await http.ws_connect(ws_url, headers={"Origin": origin}, heartbeat=None)
    except aiohttp.WSServerHandshakeError as exc:
        raise ProbeFailed("web chat", f"socket refused: HTTP {exc.status}") from None
    steps: list[Step] = []
    async with ws:
        replies = await _say(ws, PROBE_TEXT)
        if not any(CRISIS_LINE in r for r in replies):
            raise ProbeFailed("web chat", f"no reply carried {CRISIS_LINE} ({len(replies)} replies)")
        steps.append(Step("web chat", True, f"the number came back ({len(replies)} replies)"))
        replies, ended = await _end(ws)
        if not ended:
            raise ProbeFailed("end of conversation", "the session did not end; it will idle out")
        steps.append(Step("end of conversation", True, "session ended and wiped"))
    return steps


async def _say(ws, text: str) -> list[str]:
    await ws.send_json({"type": "message", "text": text})
    replies, _ = await _replies(ws)
    return replies


async def _end(ws) -> tuple[list[str], bool]:
    await ws.send_json({"type": "message", "text": END_TEXT})
    return await _replies(ws)


async def _replies(ws) -> tuple[list[str], bool]:
    """Collect reply frames until the bot goes quiet; True if it said the session ended."""
    texts: list[str] = []
    ended = False
    while True:
        try:
            msg = await asyncio.wait_for(ws.receive(), 2.0 if not texts else 0.5)
        except TimeoutError:
            break
        if msg.type.name in ("CLOSE", "CLOSING", "CLOSED", "ERROR"):
            break
        if msg.type.name != "TEXT":
            continue
        frame = json.loads(msg.data)
        texts += _texts(frame)
        ended = ended or _says_ended(frame)
    return texts, ended


def _texts(frame: Any) -> list[str]:
    if isinstance(frame, dict) and isinstance(frame.get("text"), str):
        return [frame["text"]]
    if isinstance(frame, dict) and isinstance(frame.get("replies"), list):
        return [r.get("text", "") for r in frame["replies"] if isinstance(r, dict)]
    return []


def _says_ended(frame: Any) -> bool:
    return isinstance(frame, dict) and (frame.get("type") == "ended" or frame.get("ended") is True)
