"""``frontdoor probe``: passes against a live instance and leaves nothing behind; fails against a dead or unready one."""

from __future__ import annotations

import urllib.request

import pytest

from bot.commands.probe import probe
from tests.oncall import process
from tests.oncall.conftest import FakeCallbacks, serve


def active_sessions(url: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("frontdoor_active_sessions "):
                return float(line.split()[1])
    raise AssertionError("frontdoor_active_sessions not exported")


@pytest.mark.slow
def test_probe_passes_against_a_live_instance_and_ends_its_session(tmp_path):
    server = process.start(process.base_env(tmp_path, process.free_port()), tmp_path / "serve.log")
    try:
        result = process.probe(server.url)
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert [line.split(":")[0] for line in lines] == [
            "ok   healthz",
            "ok   readyz",
            "ok   web chat",
            "ok   end of conversation",
            "ok   readyz after the conversation",
        ]
        assert active_sessions(server.url) == 0  # the probe left no session behind
    finally:
        assert server.terminate() == 0


def test_probe_fails_against_a_dead_port():
    result = process.probe(f"http://127.0.0.1:{process.free_port()}", "--timeout", "5")
    assert result.returncode == 1
    assert result.stdout.startswith("FAIL probe: cannot reach")


@pytest.mark.slow
def test_probe_fails_against_an_unready_instance(tmp_path):
    # A staff-chat sink without the bot token it needs: readiness names the gap.
    env = process.base_env(tmp_path, process.free_port(), FRONTDOOR_TELEGRAM_STAFF_CHAT_ID="-100200300")
    server = process.start(env, tmp_path / "serve.log")
    try:
        result = process.probe(server.url)
    finally:
        server.terminate()
    assert result.returncode == 1
    assert "ok   healthz" in result.stdout
    assert "FAIL readyz: HTTP 503 not_ready (callbacks=no_sink, config=incomplete)" in result.stdout
    assert "web chat" not in result.stdout  # it stops at the first failure


@pytest.mark.parametrize("args", [["ftp://example.org"], ["not a url"], ["--timeout", "0", "http://127.0.0.1:1"]])
def test_bad_usage_exits_2(args):
    assert process.probe(*args).returncode == 2


async def test_degraded_passes_unless_strict(tmp_path):
    async with serve(tmp_path, callbacks=FakeCallbacks(waiting=1, oldest_waiting_seconds=3600.0)) as s:
        url = str(s.client.make_url("")).rstrip("/")
        relaxed = await probe(url, timeout=5)
        strict = await probe(url, timeout=5, strict=True)
    assert relaxed[1].ok and relaxed[1].detail == "degraded (callbacks=overdue)"
    assert not strict[-1].ok and strict[-1].name == "readyz" and "HTTP 200 degraded" in strict[-1].detail


async def test_store_down_fails_the_probe(tmp_path):
    async with serve(tmp_path) as s:
        s.runtime.store.ping_mode = "false"
        steps = await probe(str(s.client.make_url("")).rstrip("/"), timeout=5)
    assert [(st.name, st.ok) for st in steps] == [("healthz", True), ("readyz", False)]
    assert "session_store=down" in steps[-1].detail


async def test_liveness_only_checks_healthz(tmp_path):
    async with serve(tmp_path) as s:
        s.runtime.store.ping_mode = "false"
        steps = await probe(str(s.client.make_url("")).rstrip("/"), timeout=5, liveness=True)
    assert [(st.name, st.ok) for st in steps] == [("healthz", True)]
