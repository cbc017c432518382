"""Forensics: after full conversations on every channel, nothing anyone typed can be found.

A real ``frontdoor serve`` runs at DEBUG with Redis sessions (a redis-server of
the test's own), the SQLite outbox in a fresh data folder and a webhook sink
standing in for the crisis team. On each channel a person has a whole
conversation: a unique canary phrase, a callback request with a fake number,
then the end. Then every byte the system wrote is searched: the server's log
output, ``frontdoor chat``'s log output, every file in the data folder (the
outbox after delivery), every Redis key and value, and the metrics page.
The canary, the phone number in any form and the raw chat id or sender must
be nowhere. (The crisis team's receiver is the one place the number must
arrive; it is checked that it did.)
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
from pathlib import Path

import aiohttp
import pytest
import redis
from aiohttp import web

from tests.oncall import process
from tests.stores.redis_server import OwnRedis
from tests.support import eventually
from tests.telegram import updates
from tests.telegram.fake_bot_api import TOKEN, FakeBotAPI

pytestmark = pytest.mark.slow

CRISIS_LINE = "0300 131 2789"
WEBHOOK_SECRET = "forensics-webhook-secret"
TG_SECRET = "forensics-telegram-secret"
TWILIO_TOKEN = "forensics-twilio-auth-token"
CALLBACK_SCRIPT = ("2", None, "1", "1", "1", "1")  # ask for a call back, the number, then confirm the defaults


class CrisisTeam:
    """The callback webhook sink's receiver: checks the signature, keeps the bodies."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/callbacks", self.receive)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/callbacks"  # type: ignore[union-attr]

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(json.loads(body))
        return web.json_response({"ok": True})

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


def forms_of(number: str) -> list[str]:
    """A UK mobile in the ways it could be written down."""
    digits = number.replace(" ", "")
    return [number, digits, "+44" + digits[1:], "44" + digits[1:], digits[1:]]




async def telegram_conversation(server, fake: FakeBotAPI, chat_id: int, canary: str, phone: str) -> None:
    await eventually(lambda: fake.calls_to("setWebhook"), timeout=20)  # the channel is up once it has registered
    async with aiohttp.ClientSession() as http:

        async def say(text: str) -> None:
            before = len(fake.sent_texts(chat_id))
            update = updates.message(chat_id, fake.next_message_id(), text)
            async with http.post(f"{server.url}/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as resp:
                assert resp.status == 200
            await eventually(lambda: len(fake.sent_texts(chat_id)) > before, timeout=20)

        await say("/start")
        await say(canary)
        for step in CALLBACK_SCRIPT:
            await say(step or phone)
        assert any("with the team" in t for t in fake.sent_texts(chat_id)), fake.sent_texts(chat_id)[-3:]
        await say("end")
        assert all(CRISIS_LINE in t or "999" in t for t in fake.sent_texts(chat_id))


async def web_conversation(server, canary: str, phone: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{server.url}/chat/ws", headers={"Origin": server.url}) as ws:

            async def say(frame: dict) -> list[str]:
                await ws.send_json(frame)
                texts: list[str] = []
                while True:
                    try:
                        msg = await ws.receive(timeout=2.0 if not texts else 0.3)
                    except asyncio.TimeoutError:
                        return texts
                    if msg.type is not aiohttp.WSMsgType.TEXT:
                        return texts
                    data = json.loads(msg.data)
                    texts += [r["text"] for r in data.get("replies", [])]

            await say({"type": "start"})
            await say({"type": "message", "text": canary})
            seen: list[str] = []
            for step in CALLBACK_SCRIPT:
                seen += await say({"type": "message", "text": step or phone})
            assert any("with the team" in t for t in seen), seen[-2:]
            await say({"type": "message", "text": "end"})


async def sms_conversation(server, canary: str, phone: str) -> None:
    from twilio.request_validator import RequestValidator

    from tests.sms.conftest import twiml_messages

    url = f"{server.url}/sms/twilio"
    validator = RequestValidator(TWILIO_TOKEN)
    sender = "+44" + phone.replace(" ", "")[1:]
    replies: list[str] = []
    async with aiohttp.ClientSession() as http:
        for n, body in enumerate(["hi", canary, "2", "this number", "1", "1", "1", "1", "bye"]):
            params = {"MessageSid": f"SM{secrets.token_hex(16)}", "From": sender, "To": "+447700900999", "Body": body}
            async with http.post(url, data=params, headers={"X-Twilio-Signature": validator.compute_signature(url, params)}) as resp:
                assert resp.status == 200
                replies += twiml_messages(await resp.text())
    assert any("with the team" in r for r in replies)


def terminal_conversation(env: dict[str, str], canary: str, phone: str, log: Path) -> str:
    script = "\n".join(["hi", canary, "2", phone, "1", "1", "1", "1", "end"]) + "\n"
    result = subprocess.run([str(process.FRONTDOOR), "chat"], input=script, env=env, capture_output=True, text=True, timeout=60)
    log.write_text(result.stderr)  # the log output; stdout is the person's own screen
    assert "with the team" in result.stdout, result.stdout[-500:]
    return result.stderr


def everything_written(data_dir: Path, redis_url: str, logs: list[str], metrics: str) -> dict[str, bytes]:
    found: dict[str, bytes] = {f"log {i}": text.encode() for i, text in enumerate(logs)}
    for path in data_dir.rglob("*"):
        if path.is_file():
            found[f"file {path.relative_to(data_dir)}"] = path.read_bytes()
    client = redis.Redis.from_url(redis_url)
    for key in client.keys("*"):
        kind = client.type(key)
        if kind == b"string":
            value = client.get(key) or b""
        elif kind == b"zset":
            value = b" ".join(m for m, _ in client.zrange(key, 0, -1, withscores=True))
        elif kind == b"hash":
            value = b" ".join(k + b"=" + v for k, v in client.hgetall(key).items())
        elif kind == b"list":
            value = b" ".join(client.lrange(key, 0, -1))
        elif kind == b"set":
            value = b" ".join(client.smembers(key))
        else:
            value = b""
        found[f"redis {key!r}"] = key + b" " + value
    client.close()
    found["metrics"] = metrics.encode()
    return found


async def test_no_canary_number_or_chat_id_anywhere_after_conversations_on_every_channel(tmp_path):
    canary = f"canary-{secrets.token_hex(4)} my sergeant keeps on at me"
    picks = iter(secrets.SystemRandom().sample(range(1000), 4))
    phones = {channel: f"07700 900{next(picks):03d}" for channel in ("telegram", "terminal", "web", "sms")}
    chat_id = 7700900000 + secrets.randbelow(999)

    own_redis = OwnRedis()
    own_redis.start()
    team, fake = CrisisTeam(), FakeBotAPI()
    await team.start()
    await fake.start()
    data_dir = tmp_path / "data"
    port = process.free_port()
    env = process.base_env(
        data_dir,
        port,
        FRONTDOOR_LOG_LEVEL="DEBUG",
        FRONTDOOR_REDIS_URL=own_redis.url,
        FRONTDOOR_HASH_SECRET="forensics-" + "h" * 32,
        FRONTDOOR_CALLBACK_WEBHOOK_URL=team.url,
        FRONTDOOR_CALLBACK_WEBHOOK_SECRET=WEBHOOK_SECRET,
        FRONTDOOR_TELEGRAM_TOKEN=TOKEN,
        FRONTDOOR_TELEGRAM_API_URL=fake.url,
        FRONTDOOR_TELEGRAM_WEBHOOK_URL="https://frontdoor.invalid/telegram/webhook",
        FRONTDOOR_TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
        FRONTDOOR_TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
    )
    server = process.start(env, tmp_path / "serve.log")
    try:
        await telegram_conversation(server, fake, chat_id, canary, phones["telegram"])
        await web_conversation(server, canary, phones["web"])
        await sms_conversation(server, canary, phones["sms"])
        terminal_log = terminal_conversation(env, canary, phones["terminal"], tmp_path / "chat.log")
        await eventually(lambda: len(team.received) >= 4, timeout=30)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/metrics") as resp:
                metrics = await resp.text()
        code = server.terminate()
        assert code == 0
        written = everything_written(data_dir, own_redis.url, [server.output(), terminal_log], metrics)
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
        await fake.stop()
        await team.stop()
        own_redis.cleanup()

    delivered = json.dumps(team.received)
    for number in phones.values():
        assert "+44" + number.replace(" ", "")[1:] in delivered, "a confirmed callback did not reach the crisis team"
    assert any(b"DEBUG" in v for k, v in written.items() if k.startswith("log")), "nothing logged at DEBUG: the test would prove nothing"
    needles = [canary.split()[0], "sergeant", str(chat_id)] + [form for p in phones.values() for form in forms_of(p)]
    for where, data in written.items():
        for needle in needles:
            assert needle.encode() not in data, f"{needle!r} found in {where}"
