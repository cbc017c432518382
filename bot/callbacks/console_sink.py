"""Callback sink for development only: print each request to this terminal's stderr.

A developer trying the flow with `frontdoor chat` sees the request arrive
without a webhook or a mail server. It prints the number, which is the
developer's own test data. The factory uses it only with FRONTDOOR_ENV=development
and no real sink configured, and never otherwise; a test may build one itself.
"""

from __future__ import annotations

import sys
from typing import TextIO

from bot.callbacks.base import CallbackRequest
from bot.callbacks.email_sink import team_text


class DevelopmentConsoleSink:
    name = "development_console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def deliver(self, request: CallbackRequest) -> None:
        stream = self._stream or sys.stderr
        stream.write("\n[development callback sink: NOT sent to any crisis team]\n" + team_text(request) + "\n\n")
        stream.flush()
