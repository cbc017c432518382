"""A person in a private Telegram chat, for tests: types, taps buttons, reads what came back."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.telegram.updates import PRIVATE_CHAT, message, press


@dataclass
class Person:
    bot: object  # tests.telegram.conftest.Bot
    chat_id: int = PRIVATE_CHAT
    typed_ids: list[int] = field(default_factory=list)

    async def say(self, text: str | None = None, **content) -> None:
        message_id = self.bot.fake.next_message_id()
        self.typed_ids.append(message_id)
        await self.bot.deliver(message(self.chat_id, message_id, text, **content))

    async def tap(self, option_id: str) -> None:
        """Press the newest button with this option id, on whichever message carries it."""
        for call in reversed(self.bot.fake.calls_to("sendMessage", self.chat_id)):
            for b in call.buttons if call.result else ():
                # a Welsh message's buttons carry "id@cy"; press what the message really carries
                if b.get("callback_data", "").partition("@")[0] == option_id:
                    await self.bot.deliver(press(self.chat_id, call.result["message_id"], b["callback_data"]))
                    return
        raise AssertionError(f"no message with a '{option_id}' button; texts: {self.texts()}")

    def texts(self) -> list[str]:
        return self.bot.fake.sent_texts(self.chat_id)

    @property
    def last(self):
        return self.bot.fake.last_message(self.chat_id)
