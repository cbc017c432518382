"""A redis-server of our own on a free port, for tests that take Redis down.

The machine's Redis (127.0.0.1:6379) stays up for everyone else. This one is
started with the settings deploy/ asks for in production (``save ""``,
``appendonly no``) in a temporary folder, so the test also shows that Redis
writes nothing to disk.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.support import free_port, unavailable


class OwnRedis:
    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            unavailable("redis-server is not installed (.ci/system-deps.sh installs it)")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="frontdoor-redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(500):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.01)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def files(self) -> list[Path]:
        return [p for p in self.folder.rglob("*") if p.is_file()]

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
