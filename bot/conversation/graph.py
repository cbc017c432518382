"""The flow drawn as a graph (Mermaid for the README, DOT for Graphviz), from the same data.

Edges back to the menu are left out: every state has one (and "back", "number",
"end" work everywhere), and drawing them all hides the shape of the conversation.
"""

from __future__ import annotations

from bot.conversation.flow import Flow


def _edges(flow: Flow) -> list[tuple[str, str, str]]:
    edges = []
    for s in flow.states.values():
        for o in s.options:
            if o.to != flow.menu or s.id == flow.start:
                edges.append((s.id, o.to, o.label.get("en")))
        if s.input and s.next:
            edges.append((s.id, s.next, f"typed {s.input}"))
        for result, to in s.outcomes.items():
            edges.append((s.id, to, result))
    return edges


def to_mermaid(flow: Flow) -> str:
    lines = ["flowchart TD"]
    for sid, s in flow.states.items():
        shape = ("[[", "]]") if s.action else ("[", "]")
        lines.append(f"    {sid}{shape[0]}\"{sid}\"{shape[1]}")
    for a, b, label in _edges(flow):
        label = label.replace('"', "'")
        lines.append(f"    {a} -->|\"{label}\"| {b}")
    return "\n".join(lines) + "\n"


def to_dot(flow: Flow) -> str:
    lines = ["digraph frontdoor {", "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="Helvetica"];']
    for sid, s in flow.states.items():
        extra = ', style="rounded,filled", fillcolor="#e8f0fe"' if s.action else ""
        lines.append(f'  "{sid}" [label="{sid}"{extra}];')
    for a, b, label in _edges(flow):
        label = label.replace('"', "'")
        lines.append(f'  "{a}" -> "{b}" [label="{label}", fontsize=9];')
    lines.append("}")
    return "\n".join(lines) + "\n"
