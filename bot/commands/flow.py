"""``frontdoor flow check`` and ``frontdoor flow graph``: for the people who own the wording."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from bot import readability
from bot.conversation.flow import FlowError, default_flows_dir, load_flow
from bot.conversation.flowcheck import check_flow
from bot.conversation.graph import to_dot, to_mermaid


def register(sub: argparse._SubParsersAction) -> None:
    flow = sub.add_parser("flow", help="check or draw the conversation in flows/")
    fsub = flow.add_subparsers(dest="flow_command", required=True)
    check = fsub.add_parser("check", help="validate flows/; prints file:line: problem and exits 1 on any error")
    check.add_argument("--flows", type=Path, default=default_flows_dir(), help="flows folder (default: the shipped one)")
    check.add_argument("--readability", action="store_true", help="print the Flesch reading ease of every English text, not just the summary")
    check.set_defaults(func=run_check)
    graph = fsub.add_parser("graph", help="draw the conversation (.svg or .png needs Graphviz's dot; .mmd or .md writes Mermaid; .dot writes DOT)")
    graph.add_argument("--flows", type=Path, default=default_flows_dir())
    graph.add_argument("-o", "--output", type=Path, required=True)
    graph.set_defaults(func=run_graph)


def run_check(args: argparse.Namespace) -> int:
    findings = check_flow(args.flows)
    errors = [f for f in findings if f.error]
    warnings = [f for f in findings if f.warning]
    reviews = [f for f in findings if f.review]
    for finding in errors:
        print(finding, file=sys.stderr)
    for finding in warnings:
        print(finding)
    if reviews:
        print(f"Welsh texts awaiting review by a fluent Welsh speaker ({len(reviews)}; mark each `status: reviewed` once checked):")
        for finding in reviews:
            print(f"  {finding}")
    if not errors:
        print(readability.report(load_flow(args.flows), every=args.readability))
    print(f"{len(errors)} error(s), {len(warnings)} warning(s), {len(reviews)} Welsh draft(s) in {args.flows}")
    return 1 if errors else 0


def run_graph(args: argparse.Namespace) -> int:
    try:
        flow = load_flow(args.flows)
    except FlowError as exc:
        print(exc, file=sys.stderr)
        return 1
    suffix = args.output.suffix.lower()
    if suffix in (".mmd", ".md"):
        text = to_mermaid(flow)
        args.output.write_text(f"```mermaid\n{text}```\n" if suffix == ".md" else text, encoding="utf-8")
        return 0
    dot_source = to_dot(flow)
    if suffix == ".dot":
        args.output.write_text(dot_source, encoding="utf-8")
        return 0
    if suffix not in (".svg", ".png"):
        print(f"{args.output}: use .svg, .png, .dot, .mmd or .md", file=sys.stderr)
        return 2
    dot = shutil.which("dot")
    if dot is None:
        print("Graphviz's `dot` is not installed (apt-get install graphviz); write .mmd or .dot instead", file=sys.stderr)
        return 1
    subprocess.run([dot, f"-T{suffix[1:]}", "-o", str(args.output)], input=dot_source.encode(), check=True)
    return 0
