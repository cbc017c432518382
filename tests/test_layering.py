"""The layering holds: channels see only their port, and no module imports itself in a circle.

Read from the source with ``ast`` (every import, including those inside a
function or under TYPE_CHECKING), so a shortcut taken anywhere fails here,
not in review. On d346469 every channel imported ``bot.runtime``, the web
chat and Telegram reached into the store, and two import circles ran through
the Telegram package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bot

PACKAGE = Path(bot.__file__).parent
FORBIDDEN_FOR_CHANNELS = ("bot.runtime", "bot.stores", "bot.web")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, as full dotted names (``from a import b`` gives ``a.b`` when that is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {name for name in found if name.startswith("bot")}


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
CHANNEL_MODULES = sorted(name for name in MODULES if name.startswith("bot.channels"))


@pytest.mark.parametrize("name", CHANNEL_MODULES)
def test_a_channel_never_imports_the_runtime_a_store_or_the_web_layer(name):
    reached = {i for i in imports(MODULES[name]) if i.startswith(FORBIDDEN_FOR_CHANNELS)}
    assert not reached, f"{name} imports {sorted(reached)}: a channel gets its port, nothing more"


def test_no_channel_walks_the_flow_by_string_id():
    for name in CHANNEL_MODULES:
        if name == "bot.channels.port":
            continue  # the port is the one place that holds the engine, for the channels
        source = MODULES[name].read_text(encoding="utf-8")
        assert ".flow.states" not in source and "engine." not in source, f"{name} reaches into the engine"


def test_there_is_no_import_circle_anywhere_in_the_package():
    graph = {name: {i for i in imports(path) if i in MODULES and i != name} for name, path in MODULES.items()}
    # Edges are what a module names; the implicit import of a parent package is not one.
    # So a package's __init__ importing its submodules is fine, and a submodule naming
    # its package back (``from bot.channels.telegram import webhook``) is a circle.
    circles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)
