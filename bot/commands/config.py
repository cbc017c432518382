"""``frontdoor config``: print the configuration table, or check the current environment."""

from __future__ import annotations

import argparse
import sys

from bot.config import ConfigError, describe, load


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="print every FRONTDOOR_* variable (Markdown), or --check the environment")
    p.add_argument("--check", action="store_true", help="validate the current environment and say what is wrong")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.check:
        try:
            settings = load()
        except ConfigError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 2
        print(f"configuration is valid (FRONTDOOR_ENV={settings.env})")
        return 0
    print(describe())
    return 0
