"""Frontdoor: the chat and SMS front door to the police Mental Health Crisis Line.

The package is layered (see docs/ARCHITECTURE.md): ``bot.conversation`` is a
sans-I/O core; ``bot.gateway`` is the one path every channel calls;
``bot.channels``, ``bot.stores``, ``bot.callbacks`` and ``bot.web`` are thin
adapters around it. Imports point down the layers, never up.
"""

CRISIS_LINE = "0300 131 2789"
"""The crisis line number, for code paths that must answer even when flows/ cannot load."""

__all__ = ["CRISIS_LINE"]
