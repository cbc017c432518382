"""Telegram update payloads for tests, shaped as the Bot API sends them (only the fields used)."""

from __future__ import annotations

import itertools
import time
from typing import Any

_update_ids = itertools.count(500_000)

PRIVATE_CHAT = 770090001  # a user id; private chat ids equal user ids
GROUP_CHAT = -100770090002


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Officer"}


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Officer"}
    return {"id": chat_id, "type": "supergroup", "title": "Shift team"}


def next_update_id() -> int:
    return next(_update_ids)


def message(chat_id: int, message_id: int, text: str | None = None, *, user_id: int | None = None, update_id: int | None = None, **content: Any) -> dict:
    msg: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": _chat(chat_id), "from": _user(user_id or abs(chat_id) % 10**9)}
    if text is not None:
        msg["text"] = text
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    msg.update(content)
    return {"update_id": update_id or next_update_id(), "message": msg}


def press(chat_id: int, on_message_id: int, data: str, *, update_id: int | None = None) -> dict:
    return {
        "update_id": update_id or next_update_id(),
        "callback_query": {
            "id": f"q{next_update_id()}",
            "from": _user(chat_id),
            "chat_instance": "ci-1",
            "data": data,
            "message": {"message_id": on_message_id, "date": int(time.time()), "chat": _chat(chat_id), "from": {"id": 1, "is_bot": True, "first_name": "Support"}, "text": "..."},
        },
    }


def member_change(chat_id: int, old: str, new: str, *, bot_id: int = 123456789) -> dict:
    bot = {"id": bot_id, "is_bot": True, "first_name": "Support"}
    return {
        "update_id": next_update_id(),
        "my_chat_member": {
            "chat": _chat(chat_id),
            "from": _user(abs(chat_id) % 10**9),
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot},
            "new_chat_member": {"status": new, "user": bot, **({"until_date": 0} if new == "kicked" else {})},
        },
    }
