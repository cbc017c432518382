"""SMS tests: the real app, payloads signed with Twilio's own library, and a fake of Notify's API."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from typing import AsyncIterator

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from bot.config import load
from tests.support import app_client

AUTH_TOKEN = "twilio-test-auth-token-0123456789ab"
PUBLIC_URL = "https://frontdoor.example.org"
SENDER = "+447700900321"
OUR_NUMBER = "+447700900999"
NOTIFY_SERVICE = str(uuid.UUID(int=7))
NOTIFY_SECRET = str(uuid.UUID(int=9))
NOTIFY_KEY = f"test_key-{NOTIFY_SERVICE}-{NOTIFY_SECRET}"
NOTIFY_CALLBACK_TOKEN = "notify-callback-token-abcdef"
TEMPLATE = str(uuid.UUID(int=11))
_sids = itertools.count(1)


def sid() -> str:
    return f"SM{next(_sids):032x}"


class Phone:
    """A person texting the bot through Twilio: signs each webhook exactly as Twilio does."""

    def __init__(self, client: TestClient, sender: str = SENDER, url: str = PUBLIC_URL + "/sms/twilio") -> None:
        self.client = client
        self.sender = sender
        self.url = url
        self.validator = RequestValidator(AUTH_TOKEN)

    def payload(self, body: str, **extra: str) -> dict[str, str]:
        params = {"MessageSid": sid(), "AccountSid": "AC" + "0" * 32, "From": self.sender, "To": OUR_NUMBER, "Body": body, "NumMedia": "0"}
        params.update(extra)
        return params

    async def post(self, params: dict[str, str], signature: str | None = None):
        sig = self.validator.compute_signature(self.url, params) if signature is None else signature
        return await self.client.post("/sms/twilio", data=params, headers={"X-Twilio-Signature": sig})

    async def say(self, body: str, **extra: str) -> list[str]:
        resp = await self.post(self.payload(body, **extra))
        assert resp.status == 200, await resp.text()
        return twiml_messages(await resp.text())


def twiml_messages(xml: str) -> list[str]:
    import xml.etree.ElementTree as ET

    return [m.text or "" for m in ET.fromstring(xml).iter("Message")]


class FakeNotify:
    """GOV.UK Notify's send-SMS endpoint: checks the JWT like Notify, records what was sent."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.url = ""
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v2/notifications/sms", self.send)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    async def send(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, NOTIFY_SECRET, algorithms=["HS256"])
        except jwt.PyJWTError:
            return web.json_response({"errors": [{"error": "AuthError"}]}, status=403)
        if claims.get("iss") != NOTIFY_SERVICE:
            return web.json_response({"errors": [{"error": "AuthError"}]}, status=403)
        body = await request.json()
        self.sent.append(body)
        return web.json_response({"id": str(uuid.uuid4()), "content": {"body": body["personalisation"]["body"]}}, status=201)

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


@contextlib.asynccontextmanager
async def sms_app(tmp_path, metrics=None, **env: str) -> AsyncIterator[tuple[TestClient, object]]:
    values = {
        "FRONTDOOR_ENV": "development",  # the console sink stands in for the crisis team
        "FRONTDOOR_DATA_DIR": str(tmp_path),
        "FRONTDOOR_HASH_SECRET": "s" * 32,
        "FRONTDOOR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "FRONTDOOR_PUBLIC_URL": PUBLIC_URL,
    }
    values.update(env)
    async with app_client(load(values), metrics=metrics) as (client, runtime):
        yield client, runtime


@pytest.fixture
async def twilio(tmp_path):
    async with sms_app(tmp_path) as (client, runtime):
        yield Phone(client), runtime


@pytest.fixture
async def notify(tmp_path):
    fake = FakeNotify()
    await fake.start()
    async with sms_app(
        tmp_path,
        FRONTDOOR_NOTIFY_API_KEY=NOTIFY_KEY,
        FRONTDOOR_NOTIFY_CALLBACK_TOKEN=NOTIFY_CALLBACK_TOKEN,
        FRONTDOOR_NOTIFY_TEMPLATE_ID=TEMPLATE,
        FRONTDOOR_NOTIFY_BASE_URL=fake.url,
    ) as (client, runtime):
        yield client, runtime, fake
    await fake.stop()
