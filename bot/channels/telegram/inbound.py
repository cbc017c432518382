"""Turning a Telegram message into an :class:`Inbound`: the channel's whole reading of people.

Kept apart from the sending side so the mapping can be read (and tested) in
one place:

* text: typed, cut to Telegram's own 4096-character limit (a forged update
  could be longer; triage still reads what is kept);
* ``/start`` (with or without a deep-link payload): a fresh start. The
  payload is only counted as a share, never kept;
* other commands (``/help``, ``/menu``, ``/stop``): the word, typed, so the
  flow's global words answer them;
* a contact card: its number, for the callback flow to confirm;
* media with a caption: the caption, typed, so triage reads it;
* anything else (voice, photo, sticker, location, a file): unreadable, and
  the engine answers kindly with the number.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message

from bot.conversation.events import Channel, Inbound, InboundKind

TG = Channel.TELEGRAM
MAX_TEXT = 4096


@dataclass(frozen=True, slots=True)
class Reading:
    inbound: Inbound
    shared: bool = False  # opened from a share link (/start with a payload)


def read_message(message: Message) -> Reading:
    text = message.text
    if text is not None:
        return _read_text(text[:MAX_TEXT])
    if message.contact is not None and message.contact.phone_number:
        return Reading(Inbound(TG, InboundKind.CONTACT, phone=message.contact.phone_number[:32]))
    if message.caption:
        return Reading(Inbound.typed(TG, message.caption[:MAX_TEXT]))
    return Reading(Inbound(TG, InboundKind.UNREADABLE))


def _read_text(text: str) -> Reading:
    if not text.startswith("/"):
        return Reading(Inbound.typed(TG, text))
    command, _, rest = text[1:].partition(" ")
    command = command.split("@", 1)[0].lower()
    if command == "start":
        return Reading(Inbound(TG, InboundKind.START), shared=bool(rest.strip()))
    return Reading(Inbound.typed(TG, command or text))
