"""The flow: flows/*.yaml read into typed, immutable objects.

flows/ is the table that drives everything about the conversation: the engine,
``frontdoor flow check`` and ``frontdoor flow graph`` all read it through
:func:`load_flow`, and nothing about the conversation is hard-coded beside it.

The YAML is read with ruamel.yaml's round-trip loader: YAML 1.2, so ``no``,
``yes`` and ``12:30`` stay text (PyYAML would turn them into False, True and
750), and every object remembers its line, so problems are reported as
``file:line: problem`` for the people who edit the wording.

This module only parses. What makes a flow *safe* (no dead ends, the number
always close) is in :mod:`bot.conversation.flowcheck`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

ACTIONS = ("submit_callback", "cancel_callback", "send_contact", "clear_chat", "end")
INPUTS = ("phone", "time")
RESERVED_IDS = ("menu", "back", "end", "number", "help", "emergency")
CONVERSATION_FILE = "conversation.yaml"
SERVICES_FILE = "services.yaml"


class FlowError(ValueError):
    """flows/ could not be read. ``problems`` holds ``file:line: problem`` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Where:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Text:
    """One text in every language it has. ``status`` holds review states (e.g. cy: draft)."""

    by_lang: Mapping[str, str]
    where: Where
    status: Mapping[str, str] = field(default_factory=dict)

    def get(self, lang: str) -> str:
        return self.by_lang.get(lang) or self.by_lang.get("en", "")

    def has(self, lang: str) -> bool:
        return bool(self.by_lang.get(lang))


@dataclass(frozen=True, slots=True)
class FlowOption:
    id: str
    label: Text
    to: str
    where: Where
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    set: Mapping[str, str] = field(default_factory=dict)
    channels: frozenset[str] | None = None
    needs: str | None = None
    count: str | None = None


@dataclass(frozen=True, slots=True)
class State:
    id: str
    where: Where
    text: Text | None
    sms: Text | None = None
    options: tuple[FlowOption, ...] = ()
    back: str | None = None
    input: str | None = None
    next: str | None = None
    action: str | None = None
    outcomes: Mapping[str, str] = field(default_factory=dict)
    services: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    footer: bool = True


@dataclass(frozen=True, slots=True)
class Message:
    """A standalone reply (emergency, help, not understood ...)."""

    id: str
    text: Text
    sms: Text | None = None
    footer: bool = True


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    words: tuple[str, ...]
    reply: str | None
    where: Where


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    name: str
    where: Where
    line: Text | None
    line_sms: Text | None
    source: str
    verified: str
    numbers: tuple[str, ...] = ()
    hours: str = ""
    languages: frozenset[str] | None = None  # listed only in these languages (None: all)


@dataclass(frozen=True, slots=True)
class Flow:
    start: str
    menu: str
    footer: Text
    intents: Mapping[str, Intent]
    replies: Mapping[str, Message]
    values: Mapping[str, Mapping[str, Mapping[str, str]]]
    states: Mapping[str, State]
    services: Mapping[str, Service]
    folder: Path
    languages: tuple[str, ...] = ("en",)
    detect: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    texts: tuple[tuple[str, Text], ...] = ()  # every text a person can read, with what it is
    crisis_path: frozenset[str] = frozenset()
    footer_sms: Text | None = None  # a shorter footer for SMS and the terminal  # states and replies whose Welsh must be reviewed before cy is on by default


class _Reader:
    """Turns ruamel's commented maps into our dataclasses, collecting problems with lines."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[str] = []
        self.texts: list[tuple[str, Text]] = []  # (what, text): every text read, for the language checks

    def where(self, node: Any, key: Any = None) -> Where:
        line = 0
        try:
            if key is not None and hasattr(node, "lc"):
                line = node.lc.key(key)[0] + 1 if isinstance(key, str) else node.lc.item(key)[0] + 1
            elif hasattr(node, "lc"):
                line = node.lc.line + 1
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
        return Where(self.file, line)

    def problem(self, where: Where, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, parent: Any, key: str, required: bool = True, what: str = "", variant: bool = False, at: Where | None = None) -> Text | None:
        """Read one text. A ``variant`` (an SMS version) may exist in only some languages.

        ``at`` gives its line when ``parent`` is a plain dict built here (it has no lines).
        """
        where = at or (self.where(parent, key) if key in parent else self.where(parent))
        node = parent.get(key)
        if node is None:
            if required:
                self.problem(where, f"'{key}' is missing")
            return None
        if isinstance(node, str):
            node = {"en": node}
        if not isinstance(node, Mapping):
            self.problem(where, f"'{key}' should be text per language (en: ...), not {type(node).__name__}")
            return None
        by_lang: dict[str, str] = {}
        status: dict[str, str] = {}
        for lang, value in node.items():
            if isinstance(value, Mapping):  # cy: {text: ..., status: draft}
                status[lang] = str(value.get("status", ""))
                value = value.get("text")
            if not isinstance(value, str):
                self.problem(where, f"'{key}.{lang}' should be text, not {type(value).__name__} (quote it: YAML reads true/false/numbers)")
                continue
            by_lang[str(lang)] = str(value)
        if "en" not in by_lang and not (variant and by_lang):
            self.problem(where, f"'{key}' has no English (en) text")
            return None
        text = Text(by_lang=by_lang, where=where, status=status)
        self.texts.append((what or key, text))
        return text

    def words(self, node: Any, where: Where) -> tuple[str, ...]:
        if node is None:
            return ()
        if not isinstance(node, list) or not all(isinstance(w, (str, int)) for w in node):
            self.problem(where, "words should be a list of text")
            return ()
        return tuple(str(w) for w in node)


def read_yaml(path: Path) -> Any:
    yaml = YAML(typ="rt")
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh)
    except OSError as exc:
        raise FlowError([f"{path}:0: cannot read: {exc.strerror}"]) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise FlowError([f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None


def load_flow(folder: Path) -> Flow:
    """Read ``conversation.yaml`` and ``services.yaml`` from ``folder``. Raises FlowError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FlowError([f"{folder}:0: flows folder is missing or not a folder"])
    conv_path, svc_path = folder / CONVERSATION_FILE, folder / SERVICES_FILE
    conv, svc = read_yaml(conv_path), read_yaml(svc_path)
    r = _Reader(str(conv_path))
    if not isinstance(conv, Mapping) or not isinstance(conv.get("states"), Mapping):
        raise FlowError([f"{conv_path}:1: expected a mapping with 'states'"])

    states: dict[str, State] = {}
    raw_states = conv["states"]
    for sid, node in raw_states.items():
        where = r.where(raw_states, sid)
        if not isinstance(node, Mapping):
            r.problem(where, f"state '{sid}' should be a mapping")
            continue
        source = node
        if "options_from" in node:
            source = raw_states.get(node["options_from"], {})
        options = []
        for i, opt in enumerate(source.get("options") or []):
            owhere = r.where(source["options"], i)
            if not isinstance(opt, Mapping) or not opt.get("id"):
                r.problem(owhere, f"state '{sid}': option {i + 1} needs an id")
                continue
            label = r.text(opt, "label", what=f"state '{sid}': option '{opt['id']}' label") if source is node else r.text(opt, "label", what="")
            if label is None:
                r.problem(owhere, f"state '{sid}': option '{opt['id']}' has no label")
                continue
            words_node = opt.get("words") or {}
            words = {str(k): r.words(v, owhere) for k, v in words_node.items()} if isinstance(words_node, Mapping) else {}
            channels = opt.get("channels")
            options.append(
                FlowOption(
                    id=str(opt["id"]),
                    label=label,
                    to=str(opt.get("to", "")),
                    where=owhere,
                    words=words,
                    set={str(k): str(v) for k, v in (opt.get("set") or {}).items()},
                    channels=frozenset(str(c) for c in channels) if channels else None,
                    needs=opt.get("needs"),
                    count=opt.get("count"),
                )
            )
        states[str(sid)] = State(
            id=str(sid),
            where=where,
            text=r.text(node, "text", what=f"state '{sid}' text"),
            sms=r.text(node, "sms", required=False, what=f"state '{sid}' sms", variant=True),
            options=tuple(options),
            back=node.get("back"),
            input=node.get("input"),
            next=node.get("next"),
            action=node.get("action"),
            outcomes={str(k): str(v) for k, v in (node.get("outcomes") or {}).items()},
            services=tuple(str(s) for s in node.get("services") or ()),
            sources=tuple(str(s) for s in node.get("sources") or ()),
            footer=node.get("footer", True) is not False,
        )

    intents = {}
    for name, node in (conv.get("intents") or {}).items():
        intents[str(name)] = Intent(str(name), r.words(node.get("words"), r.where(conv["intents"], name)), node.get("reply"), r.where(conv["intents"], name))

    replies = {}
    for rid, node in (conv.get("replies") or {}).items():
        node = {"en": node} if isinstance(node, str) else node
        holder = {"text": {k: v for k, v in node.items() if k not in ("sms", "footer")}}
        text = r.text(holder, "text", what=f"reply '{rid}'", at=r.where(conv["replies"], rid))
        if text is not None:
            sms = r.text(node, "sms", required=False, what=f"reply '{rid}' sms", variant=True)
            replies[str(rid)] = Message(str(rid), text, sms, node.get("footer", True) is not False)

    footer_node, footer_sms = conv.get("footer"), None
    if isinstance(footer_node, Mapping) and "sms" in footer_node:  # footer: {en: ..., sms: {en: ...}}
        footer_sms = r.text(footer_node, "sms", what="footer sms", variant=True)
        footer = r.text({"footer": {k: v for k, v in footer_node.items() if k != "sms"}}, "footer", what="footer", at=r.where(conv, "footer"))
    else:
        footer = r.text(conv, "footer", what="footer")
    footer = footer or Text({"en": ""}, Where(str(conv_path), 0))
    values: dict[str, dict[str, dict[str, str]]] = {}
    for slot, table in (conv.get("values") or {}).items():
        values[str(slot)] = {}
        for code, entry in table.items():
            team = entry.get("team") if isinstance(entry, Mapping) else None
            person = {k: v for k, v in entry.items() if k != "team"} if isinstance(entry, Mapping) else entry
            text = r.text({"value": person}, "value", what=f"value '{slot}.{code}'", at=r.where(table, code))
            if text is not None:
                values[str(slot)][str(code)] = {**text.by_lang, **({"team": str(team)} if team is not None else {})}

    services: dict[str, Service] = {}
    sr = _Reader(str(svc_path))
    for sid, node in ((svc or {}).get("services") or {}).items():
        where = sr.where(svc["services"], sid)
        services[str(sid)] = Service(
            id=str(sid),
            name=str(node.get("name", sid)),
            where=where,
            line=sr.text(node, "line", what=f"service '{sid}' line"),
            line_sms=sr.text(node, "line_sms", required=False, what=f"service '{sid}' line_sms", variant=True),
            source=str(node.get("source") or ""),
            verified=str(node.get("verified") or ""),
            numbers=tuple(str(n) for n in node.get("numbers") or ()),
            hours=str(node.get("hours") or ""),
            languages=frozenset(str(x) for x in node["languages"]) if node.get("languages") else None,
        )

    problems = r.problems + sr.problems
    for key in ("start", "menu"):
        if conv.get(key) not in states:
            problems.append(f"{r.where(conv, key) if key in conv else Where(str(conv_path), 1)}: '{key}' names unknown state {conv.get(key)!r}")
    if problems:
        raise FlowError(problems)
    langs = sorted({lang for s in states.values() if s.text for lang in s.text.by_lang}, key=lambda x: x != "en")
    detect = {}
    for lang, node in (conv.get("languages") or {}).items():
        detect[str(lang)] = r.words((node or {}).get("detect"), r.where(conv["languages"], lang))
    return Flow(
        start=str(conv["start"]),
        menu=str(conv["menu"]),
        footer=footer,
        intents=intents,
        replies=replies,
        values=values,
        states=states,
        services=services,
        folder=folder,
        languages=tuple(langs),
        detect=detect,
        texts=tuple((what, t) for what, t in r.texts + sr.texts if what),
        crisis_path=frozenset(str(x) for x in conv.get("crisis_path") or ()),
        footer_sms=footer_sms,
    )


def default_flows_dir() -> Path:
    """flows/ beside the package (the shipped conversation)."""
    return Path(__file__).resolve().parent.parent.parent / "flows"
