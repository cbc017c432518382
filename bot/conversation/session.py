"""A session: where one person is in the conversation, and nothing they said.

A session is a small dataclass: the state, the language, a handful of slots
for the callback request (a normalised phone number and the chosen options),
and two timestamps. It never holds message text. Two channel-specific fields
go with it and die with it:

* ``message_ids``: Telegram message ids, kept for "delete this conversation"
  alone (ARCHITECTURE.md's one exception);
* ``reach``: an opaque, sealed token a channel can open to send the closing
  message when the session idles out. Never a raw chat id or phone number.

Stores serialise it with :meth:`to_dict` / :meth:`from_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SlotValue = str | bool


@dataclass(slots=True)
class Session:
    state: str
    started_at: float
    last_seen: float
    lang: str = "en"
    slots: dict[str, SlotValue] = field(default_factory=dict)
    message_ids: list[int] = field(default_factory=list)
    reach: str = ""

    @classmethod
    def new(cls, state: str, now: float, lang: str = "en") -> "Session":
        return cls(state=state, started_at=now, last_seen=now, lang=lang)

    def copy(self) -> "Session":
        """A copy that shares nothing mutable: what a store hands out and keeps."""
        return Session(self.state, self.started_at, self.last_seen, self.lang, dict(self.slots), list(self.message_ids), self.reach)

    def idle_for(self, now: float) -> float:
        return now - self.last_seen

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"s": self.state, "t0": self.started_at, "t": self.last_seen, "l": self.lang}
        if self.slots:
            d["v"] = dict(self.slots)
        if self.message_ids:
            d["m"] = list(self.message_ids)
        if self.reach:
            d["r"] = self.reach
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Session":
        return cls(
            state=d["s"],
            started_at=float(d["t0"]),
            last_seen=float(d["t"]),
            lang=d.get("l", "en"),
            slots=dict(d.get("v", {})),
            message_ids=list(d.get("m", [])),
            reach=d.get("r", ""),
        )
