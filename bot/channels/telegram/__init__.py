"""The Telegram channel, on python-telegram-bot: see :mod:`.channel` for its life and pieces.

``bot.web.app`` finds every channel by ``setup(app, runtime)``; the rest is
what tests and the bench reach for.
"""

from bot.channels.telegram.channel import TELEGRAM, TelegramChannel, install, setup

__all__ = ["TELEGRAM", "TelegramChannel", "install", "setup"]
