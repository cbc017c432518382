"""What every SMS provider shares: keywords, duplicates, the sender's number, the gateway.

A provider module (:mod:`twilio_sms`, :mod:`notify_sms`) only checks that a
request really came from its provider, reads the sender, the text and the
provider's message id, and turns replies into its own form (TwiML, an API
call). Everything that decides what the person gets is here, once:

* **Opt-out words.** Twilio treats a one-word STOP, STOPALL, UNSUBSCRIBE,
  CANCEL, END, QUIT, REVOKE or OPTOUT as an opt-out and blocks every later text
  to that person (error 21610). So a message that is exactly one of them ends
  and wipes the session and we send nothing more; the bot itself never
  suggests those words on SMS (it says BYE). Twilio's ``OptOutType`` field,
  when present, is read the same way. START gets a short answer with the number.
* **Duplicates.** Providers retry; the same message id is answered once, for
  a day, across replicas: the gateway's rule for every channel, given the id.
* **The sender.** Parsed with ``phonenumbers`` into E.164. The session key is
  a keyed hash of it; the raw number goes only into the one ``Inbound`` (so
  the callback flow can offer "this number") and to the provider to reply.
* **No closing text on idle.** A text arriving later on a shared phone could
  give someone away, so an idle SMS session just ends.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import phonenumbers

from bot.channels.port import ChannelPort
from bot.conversation.events import Channel, Inbound, InboundKind, Reply

log = logging.getLogger(__name__)

SMS = Channel.SMS
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
OPT_IN_WORDS = frozenset({"start", "unstop"})
MAX_TEXT = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class BadSender(ValueError):
    """The From number can't be read as a phone number: the request gets a 400."""


@dataclass(frozen=True, slots=True)
class SmsIn:
    """One received text, already authenticated by its provider module."""

    sender: str  # as the provider sent it
    text: str
    message_id: str = ""
    opt_out: str = ""  # Twilio's OptOutType (STOP, START, HELP) when present


_UK_E164 = re.compile(r"\+44[1-9]\d{9}")


def sender_e164(raw: str) -> tuple[str, bool]:
    """The sender as E.164 and whether it is a UK number. Raises BadSender.

    Twilio sends E.164 already; a UK number in that form needs no parsing (the
    parser costs more than the rest of the message). Anything else goes
    through ``phonenumbers``.
    """
    raw = (raw or "").strip()
    if not raw:
        raise BadSender("no sender")
    if _UK_E164.fullmatch(raw):
        return raw, True
    if not raw.startswith("+") and raw.isdigit():
        raw = "+" + raw  # Notify sends 447700900123
    try:
        parsed = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        raise BadSender("unreadable sender") from None
    if not phonenumbers.is_possible_number(parsed):
        raise BadSender("impossible sender")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), parsed.country_code == 44


def clean(text: str) -> str:
    return _CONTROL.sub(" ", text or "")[:MAX_TEXT]


class SmsConversation:
    """The provider-independent half of the SMS channel."""

    def __init__(self, port: ChannelPort, provider: str) -> None:
        self.port = port
        self.provider = provider

    async def handle(self, sms: SmsIn) -> tuple[Reply, ...]:
        """The replies to send back (empty: send nothing)."""
        number, uk = sender_e164(sms.sender)  # BadSender propagates: a 400
        key = self.port.key(number)
        message_id = f"{self.provider}:{sms.message_id}" if sms.message_id else ""
        text = clean(sms.text)
        word = re.sub(r"[^a-z]", "", text.lower()) if len(text) < 20 else ""
        opt = sms.opt_out.upper()
        if opt == "STOP" or (word in OPT_OUT_WORDS and len(text.split()) == 1):
            # The provider has blocked this person now: anything we sent would fail
            # (and on Twilio, count against us). End, wipe, say nothing.
            if message_id and await self.port.seen_once(message_id):
                return ()
            await self.port.end(key, "optout")
            log.info("sms opt-out: session ended", extra={"event": "sms_optout", "provider": self.provider, "key": key})
            return ()
        if opt == "START" or (word in OPT_IN_WORDS and len(text.split()) == 1):
            inbound = Inbound(channel=SMS, kind=InboundKind.START, sender_phone=number if uk else "")
        elif not text.strip():
            inbound = Inbound(channel=SMS, kind=InboundKind.UNREADABLE, sender_phone=number if uk else "")
        else:
            inbound = Inbound.typed(SMS, text, sender_phone=number if uk else "")
        delivery = await self.port.handle(key, inbound, message_id=message_id)
        return delivery.replies
