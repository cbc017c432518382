"""The Telegram adapter: one update in, the gateway, and the replies out as Telegram messages.

It only translates. What to say is the engine's; what to keep is the
gateway's. The adapter knows Telegram's forms:

* private chats get the conversation: each reply a message, its options
  inline buttons (the number stays in the text, where Telegram makes it
  tappable);
* groups and channels get one short answer with the number and a button to
  talk privately, and nothing is kept for them;
* a person blocking the bot (``my_chat_member``: kicked) ends their session;
* "save the number" sends the crisis line as a contact card;
* "delete this conversation" deletes every message of the session the bot
  may delete, then says plainly what it could not.

The chat id is used to answer and then forgotten: the session key is a keyed
hash of it and the session holds it only sealed (``reach``), for the idle
closing message.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from telegram import ChatMember, ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.channels.port import ChannelPort, ClearRecords, Delivery, Says
from bot.channels.telegram.inbound import TG, read_message
from bot.channels.telegram.send import Blocked, Sender
from bot.conversation.events import ClearChat, Inbound, Reply, SendContactCard
from bot.conversation.session import Session

log = logging.getLogger(__name__)

MAX_CHOICE = 64  # Telegram's limit for callback_data
SEALED_CACHE = 10_000


class TelegramAdapter:
    def __init__(self, port: ChannelPort, sender: Sender, records: ClearRecords) -> None:
        self.port = port
        self.sender = sender
        self.records = records
        self.username = ""  # the bot's @name, known once getMe has answered
        self.staff_chat = port.settings.telegram_staff_chat_id
        self._sealed: OrderedDict[str, str] = OrderedDict()

    # --- PTB's entry point ------------------------------------------------------------

    async def on_update(self, update: object, context: object = None) -> None:
        """Handle one update. Never raises: PTB would log the whole update with the error."""
        if not isinstance(update, Update):
            return
        try:
            await self._dispatch(update)
        except Exception as exc:
            log.error("telegram update failed", extra={"event": "telegram_update_failed", "error": type(exc).__name__})
            await self._fallback(update)

    async def _fallback(self, update: Update) -> None:
        """Something of ours broke: the person still gets the number (never silence)."""
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            return
        try:
            await self.sender.reply(chat.id, self.port.fallback())
        except Exception:
            pass  # Telegram itself is failing; the error above is already logged

    async def _dispatch(self, update: Update) -> None:
        if update.my_chat_member is not None:
            await self._membership(update.my_chat_member)
            return
        chat = update.effective_chat
        if chat is None:
            if update.callback_query is not None:  # a button on a message Telegram no longer shows us
                await self.sender.answer_button(update.callback_query.id)
            return  # otherwise an update type we did not ask for
        if chat.type != ChatType.PRIVATE:
            await self._not_private(update, chat.id)
            return
        query = update.callback_query
        if query is not None:
            await self._pressed(update, chat.id)
            return
        message = update.message
        if message is None or (message.from_user is not None and message.from_user.is_bot):
            return
        reading = read_message(message)
        if reading.shared:
            self.port.metrics.TELEGRAM_SHARES.inc()
        await self._converse(chat.id, reading.inbound, (message.message_id,))

    async def _pressed(self, update: Update, chat_id: int) -> None:
        query = update.callback_query
        assert query is not None
        try:
            await self.sender.answer_button(query.id)
        except Blocked:
            await self._blocked(self._key(chat_id))
            return
        choice = (query.data or "")[:MAX_CHOICE]
        if not choice:
            return
        pressed = query.message.message_id if query.message is not None else 0
        await self._converse(chat_id, Inbound.pressed(TG, choice), (), pressed=pressed)

    # --- the conversation ---------------------------------------------------------------

    async def _converse(self, chat_id: int, inbound: Inbound, ids: tuple[int, ...], pressed: int = 0) -> None:
        key = self._key(chat_id)
        reach = self._reach(key, chat_id)
        delivery = await self.port.handle(key, inbound, reach=reach, message_ids=ids)
        try:
            await self._deliver(chat_id, key, delivery, pressed)
        except Blocked:
            await self._blocked(key)

    async def _deliver(self, chat_id: int, key: str, delivery: Delivery, pressed: int) -> None:
        replies = list(delivery.replies)
        lang = replies[0].lang if replies else "en"
        after_end = False
        if delivery.wants(ClearChat):
            kept = await self._take_record(key)
            # The pressed message is one the live session sent, unless the button sat on an
            # end or idle message: then the conversation it belonged to is already over.
            after_end = bool(pressed) and pressed not in delivery.message_ids
            await self.sender.delete(chat_id, set(delivery.message_ids) | set(kept) | ({pressed} if pressed else set()))
            cleared = self.port.says(Says.CHAT_CLEARED, lang).text
            replies = [Reply(cleared, r.options, r.kind, r.lang) for r in replies[:1]] + replies[1:]
        sent: list[int] = []
        for reply in replies:
            message_id = await self.sender.reply(chat_id, reply)
            if message_id:
                sent.append(message_id)
        if delivery.wants(SendContactCard):
            card = await self.sender.contact_card(chat_id, self.port.says(Says.CONTACT_CARD_NAME, lang).text)
            if card:
                sent.append(card)
        if delivery.ended:
            await self._keep_record(key, tuple(delivery.message_ids) + tuple(sent))
        elif after_end:
            # Nothing is left to talk about: don't leave a session behind to idle out
            # and post a closing message into a chat that was just cleared.
            await self.port.end(key, "user")
        else:
            await self.port.remember_sent(key, tuple(sent))

    async def _blocked(self, key: str) -> None:
        self._sealed.pop(key, None)
        await self.port.end(key, "blocked")
        await self._take_record(key)

    # --- ends outside a message -----------------------------------------------------------

    async def on_idle(self, key: str, session: Session) -> None:
        """The closing message when a session idles out, so the end is never silent."""
        raw = self.port.sealer.open(session.reach) if session.reach else None
        if raw is None or not raw.lstrip("-").isdigit():
            return
        chat_id = int(raw)
        closing = self.port.says(Says.IDLE_CLEARED, session.lang)
        option = self.port.clear_option(session.lang)
        try:
            sent = await self.sender.reply(chat_id, Reply(closing.text, (option,) if option else ()))
        except Blocked:
            return
        await self._keep_record(key, tuple(session.message_ids) + ((sent,) if sent else ()))

    # --- groups and channels ------------------------------------------------------------

    async def _membership(self, change: ChatMemberUpdated) -> None:
        chat = change.chat
        status = change.new_chat_member.status
        if chat.type == ChatType.PRIVATE:
            if status == ChatMember.BANNED:  # the person blocked the bot
                await self._blocked(self._key(chat.id))
            return
        was_out = change.old_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED)
        if was_out and status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR) and str(chat.id) != self.staff_chat:
            await self._private_only(chat.id)

    async def _not_private(self, update: Update, chat_id: int) -> None:
        message = update.message
        if message is None or str(chat_id) == self.staff_chat:
            return
        if message.from_user is not None and message.from_user.is_bot:
            return
        words = message.text or message.caption
        if not words:
            return  # service messages (someone joined) and bare media: nothing addressed to us
        await self._private_only(chat_id, self.port.language_of(words))

    async def _private_only(self, chat_id: int, lang: str = "en") -> None:
        """One short answer with the number and a way to talk privately, in the language
        the group wrote in (English unless Welsh is offered and the message reads as Welsh).
        Nothing is kept."""
        reply = self.port.says(Says.PRIVATE_ONLY, lang)
        markup = None
        if self.username:
            label = self.port.says(Says.PRIVATE_ONLY_BUTTON, lang).text
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, url=f"https://t.me/{self.username}")]])
        try:
            await self.sender.reply(chat_id, reply, markup)
        except Blocked:
            pass  # removed from the group meanwhile

    # --- helpers ----------------------------------------------------------------------------

    def _key(self, chat_id: int) -> str:
        return self.port.key(str(chat_id))

    def _reach(self, key: str, chat_id: int) -> str:
        """The sealed chat id for the idle message, sealed once per chat while it is active.

        Keyed by the session key, so this memory holds what the session store holds
        (a hash and a ciphertext), never a raw chat id. Fernet costs more than the
        rest of the adapter together, and every message would pay it.
        """
        reach = self._sealed.get(key)
        if reach is None:
            reach = self.port.sealer.seal(str(chat_id))
            self._sealed[key] = reach
            if len(self._sealed) > SEALED_CACHE:
                self._sealed.popitem(last=False)
        else:
            self._sealed.move_to_end(key)
        return reach

    async def _keep_record(self, key: str, ids: tuple[int, ...]) -> None:
        try:
            await self.records.add(key, ids)
        except Exception:
            log.warning("could not keep message ids for clearing the chat", extra={"event": "clear_record_failed"})

    async def _take_record(self, key: str) -> tuple[int, ...]:
        try:
            return await self.records.take(key)
        except Exception:
            log.warning("could not read message ids for clearing the chat", extra={"event": "clear_record_failed"})
            return ()
