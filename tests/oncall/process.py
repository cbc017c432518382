"""A real ``frontdoor serve`` in a subprocess, on a free loopback port, for the tests that need one.

Started the way an operator starts it (the console script, environment
variables only) so the probe, SIGTERM and the image's install steps are
tested against the real thing, not an in-process stand-in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
FRONTDOOR = ROOT / ".venv" / "bin" / "frontdoor"
START_TIMEOUT = 30.0


def base_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
    env.update(
        {
            "FRONTDOOR_ENV": "test",
            "FRONTDOOR_HOST": "127.0.0.1",
            "FRONTDOOR_PORT": str(port),
            "FRONTDOOR_DATA_DIR": str(data_dir),
            "FRONTDOOR_LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send ``sig`` and wait for the exit code (kills after ``timeout``: a hung shutdown fails the test)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"frontdoor serve did not exit within {timeout:g} s of signal {sig}") from None

    def output(self) -> str:
        """What the process printed (stdout and stderr), so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start(env: dict[str, str], log: Path, *, command: list[str] | None = None, cwd: Path | None = None) -> Server:
    """Start ``frontdoor serve`` and return once /healthz answers; its output goes to ``log``."""
    port = int(env["FRONTDOOR_PORT"])
    with log.open("w") as sink:
        proc = subprocess.Popen(
            command or [str(FRONTDOOR), "serve"],
            env=env,
            cwd=cwd or ROOT,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = Server(proc, port, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"frontdoor serve exited with {proc.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"frontdoor serve did not answer /healthz within {START_TIMEOUT:g} s")


def probe(*args: str, env: dict[str, str] | None = None, executable: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(executable or FRONTDOOR), "probe", *args],
        env=env or {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


__all__ = ["FRONTDOOR", "ROOT", "Server", "base_env", "free_port", "probe", "start"]
