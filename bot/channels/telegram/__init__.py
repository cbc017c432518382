"""The Telegram channel, on python-telegram-bot: see :mod:`.channel` for its life and pieces.

``bot.web.app`` finds every channel by ``CHANNEL`` and ``setup(app, port)``;
the rest is what tests and the bench reach for.
"""

from bot.channels.telegram.channel import CHANNEL, TELEGRAM, TelegramChannel, install, setup

__all__ = ["CHANNEL", "TELEGRAM", "TelegramChannel", "install", "setup"]
