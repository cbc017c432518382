"""Just enough of a Dockerfile parser to replay deploy/Dockerfile's steps without Docker.

CI has no Docker daemon, so tests/oncall/test_image.py reads the Dockerfile's
instructions, maps its absolute paths into a temporary folder, and does what
``docker build`` would: copy exactly what each COPY names, create the
virtual environment, install the project, then start the bot with the final
stage's environment. A step it cannot map fails the test rather than being
skipped, so the Dockerfile and its test can't drift apart silently.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    base: str
    name: str = ""
    steps: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)

    def args(self, instruction: str) -> list[str]:
        return [a for i, a in self.steps if i == instruction]

    def env(self) -> dict[str, str]:
        """ENV key=value pairs, in order (values may refer to earlier ones as $NAME)."""
        out: dict[str, str] = {}
        for raw in self.args("ENV"):
            for token in shlex.split(raw):
                key, _, value = token.partition("=")
                out[key] = value
        return out


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), re.sub(r"\s+", " ", rest).strip()))
        current = ""
    return out


def stages(path: Path) -> list[Stage]:
    args: dict[str, str] = {}
    result: list[Stage] = []
    for instruction, rest in instructions(path):
        if instruction == "ARG" and not result:
            key, _, value = rest.partition("=")
            args[key] = value
        elif instruction == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), rest)
            base, *name = re.split(r"\s+as\s+", image, maxsplit=1, flags=re.I)
            result.append(Stage(base.strip(), name[0].strip() if name else ""))
        elif result:
            result[-1].steps.append((instruction, rest))
    return result
