"""The ``frontdoor`` command: one entry point, one module per subcommand.

Each module in :mod:`bot.commands` exposes ``register(subparsers)``, which adds
its parser and sets ``func`` to a callable taking the parsed arguments and
returning an exit code. Adding a command is adding a module to
:data:`COMMANDS`, nothing else.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("serve", "chat", "triage", "flow", "probe", "config")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frontdoor",
        description="Front door to the police Mental Health Crisis Line (0300 131 2789, 24/7).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"bot.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bot.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
