"""``frontdoor flow check``: what makes a flow safe to ship, checked before it runs.

The people who own the wording edit flows/ without reading code, so every rule
that protects a person in crisis is checked here, with ``file:line: problem``:

* every option leads somewhere that exists, every state can be reached, and
  no state is a dead end (each shows options on every channel);
* from every state the crisis number is at most one message away, on every
  channel (in practice every reply carries it in its text or footer);
* every SMS reply is plain GSM-7 (English) and fits in three segments; a Welsh
  reply may be UCS-2 and must also fit in three segments;
* no banned phrase from the safe-messaging rules, and no crisis words on the
  first line of a routine message (a locked phone shows it);
* every service has a source, every phone number the bot states is in the
  service directory, and a ``verified`` date over a year old is a warning;
* when the flow offers Welsh, every text a person can read (state, option,
  reply, value, service entry, footer) has a Welsh version, no Welsh text drops
  the accents a word needs (to squeeze an SMS into GSM-7), and each Welsh text
  still waiting for a fluent speaker's review is listed, so nobody mistakes a
  draft for a checked translation.

The same function runs in the test suite on the shipped flows.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from bot import CRISIS_LINE
from bot.conversation.engine import Engine, EngineOptions
from bot.conversation.events import Channel, ReplyKind
from bot.conversation.flow import ACTIONS, INPUTS, Flow, FlowError, Text, load_flow
from bot.conversation.render import visible_options
from bot.conversation.sms import MAX_SEGMENTS, first_non_gsm7, measure
from bot.conversation.triage import Triage

SAMPLE_PHONE = "07700 900123"  # the callback number previews fill in; the person's own, not a stated service
REQUIRED_OUTCOMES = {"submit_callback": ("ok", "failed"), "cancel_callback": ("withdrawn", "delivered", "unknown")}
_PHONE_LIKE = re.compile(r"(?<![\d:])(?:\+44\s?|0)\d{2,4}[ ]?\d{3}[ ]?\d{3,4}(?!\d)|\b\d{3} \d{3}\b|\b(?:999|111|85258)\b")
_FIRST_SENTENCE = re.compile(r"^.*?(?:[.?]\s|\n|$)", re.S)


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the check. ``warning`` and ``review`` lines don't fail it; errors do."""

    where: str
    message: str
    warning: bool = False
    review: bool = False  # a Welsh draft awaiting a fluent speaker's review

    @property
    def error(self) -> bool:
        return not (self.warning or self.review)

    def __str__(self) -> str:
        tag = "warning: " if self.warning else "awaiting review: " if self.review else ""
        return f"{self.where}: {tag}{self.message}"


# Welsh words written without the accent they need. Dropping accents would let a
# Welsh SMS pass as GSM-7 (cheaper), and it is wrong Welsh: write them in full.
STRIPPED_WELSH = {
    "ol": "ôl", "nol": "nôl", "ffon": "ffôn", "tim": "tîm", "grwp": "grŵp", "dwr": "dŵr",
    "ty": "tŷ", "son": "sôn", "dilewch": "dilëwch", "copio": "copïo",
}
REVIEWED = "reviewed"


def _digits(s: str) -> str:
    d = re.sub(r"\D", "", s)
    return "0" + d[2:] if d.startswith("44") and len(d) > 10 else d


def check_flow(folder: Path, today: dt.date | None = None) -> list[Finding]:
    """Every problem with the flows in ``folder``; errors first, then warnings."""
    today = today or dt.date.today()
    try:
        flow = load_flow(folder)
        triage = Triage.load(Path(folder) / "triage.yaml", None)  # the lexicon is flow data; the model is not
    except FlowError as exc:
        return [Finding(p.rsplit(": ", 1)[0], p.rsplit(": ", 1)[1]) for p in exc.problems]
    except Exception as exc:  # a broken triage lexicon is a broken flow
        return [Finding(f"{Path(folder) / 'triage.yaml'}:0", f"triage lexicon: {exc}")]
    findings: list[Finding] = []
    findings += _structure(flow)
    if any(not f.warning for f in findings):
        return findings
    findings += _services(flow, today)
    findings += _translations(flow)
    engine = Engine(flow, triage, EngineOptions(allow_fictional_numbers=True))
    findings += _replies(flow, engine, _wording(Path(folder)))
    return sorted(findings, key=lambda f: (f.review, f.warning))


def offers_welsh(flow: Flow) -> bool:
    """The flow offers Welsh when it declares how to detect it or any text has a Welsh version."""
    return "cy" in flow.detect or "cy" in flow.languages


def welsh_drafts(flow: Flow) -> list[tuple[str, Text]]:
    """(what, text) for every Welsh text not yet marked ``status: reviewed``."""
    return [(what, t) for what, t in flow.texts if "cy" in t.by_lang and t.status.get("cy") != REVIEWED]


def crisis_path_reviewed(flow: Flow) -> bool:
    """True when every Welsh text on the crisis path has been reviewed by a fluent speaker.

    Until then Welsh stays off by default (``FRONTDOOR_LANGUAGES`` defaults to
    ``en``): a wrong word in a crisis message is a hazard (H16 in docs/SAFETY.md).
    """
    if not offers_welsh(flow):
        return False
    drafts = welsh_drafts(flow)
    if not flow.crisis_path:
        return not drafts
    return not any(on_crisis_path(what, flow) for what, _ in drafts)


def on_crisis_path(what: str, flow: Flow) -> bool:
    """Is this text on the crisis path: a listed state or reply, or a service a crisis-path state lists?"""
    name = what.split("'")[1] if "'" in what else what.split()[0]
    if what.startswith("service "):
        return any(name in flow.states[s].services for s in flow.crisis_path if s in flow.states)
    return name in flow.crisis_path


def _translations(flow: Flow) -> list[Finding]:
    if not offers_welsh(flow):
        return []
    out: list[Finding] = []
    for what, text in flow.texts:
        welsh = text.by_lang.get("cy")
        if welsh is None and "en" not in text.by_lang:
            continue
        if welsh is None:
            out.append(Finding(str(text.where), f"{what} has no Welsh (cy) text"))
            continue
        if not welsh.strip():
            out.append(Finding(str(text.where), f"{what}: the Welsh (cy) text is empty"))
        words = re.findall(r"[^\W\d_]+", welsh.lower())
        for word in words:
            if STRIPPED_WELSH.get(word):
                out.append(Finding(str(text.where), f"{what}: Welsh '{word}' is missing its accent: write '{STRIPPED_WELSH[word]}' (never strip accents to save SMS cost)"))
        status = text.status.get("cy", "")
        if status not in ("draft", REVIEWED):
            out.append(Finding(str(text.where), f"{what}: Welsh status '{status}' should be draft or {REVIEWED}"))
    for what, text in welsh_drafts(flow):
        crisis = " (crisis path)" if on_crisis_path(what, flow) else ""
        out.append(Finding(str(text.where), f"{what}{crisis}: Welsh text is a draft", review=True))
    return out


def _structure(flow: Flow) -> list[Finding]:
    out: list[Finding] = []
    states = flow.states

    def target(where, what: str, to: str | None) -> None:
        if to and to not in states:
            out.append(Finding(str(where), f"{what} leads to unknown state '{to}'"))

    for s in states.values():
        for o in s.options:
            target(o.where, f"state '{s.id}': option '{o.id}'", o.to)
            if not o.to:
                out.append(Finding(str(o.where), f"state '{s.id}': option '{o.id}' has no 'to'"))
            if not o.label.get("en").strip():
                out.append(Finding(str(o.where), f"state '{s.id}': option '{o.id}' has an empty label"))
        target(s.where, f"state '{s.id}': back", s.back)
        target(s.where, f"state '{s.id}': next", s.next)
        for result, to in s.outcomes.items():
            target(s.where, f"state '{s.id}': outcome '{result}'", to)
        if s.action and s.action not in ACTIONS:
            out.append(Finding(str(s.where), f"state '{s.id}': unknown action '{s.action}' (one of {', '.join(ACTIONS)})"))
        if s.input and s.input not in INPUTS:
            out.append(Finding(str(s.where), f"state '{s.id}': unknown input '{s.input}' (one of {', '.join(INPUTS)})"))
        if s.input and not s.next:
            out.append(Finding(str(s.where), f"state '{s.id}': input '{s.input}' needs 'next'"))
        for result in REQUIRED_OUTCOMES.get(s.action or "", ()):
            if result not in s.outcomes:
                out.append(Finding(str(s.where), f"state '{s.id}': action '{s.action}' needs an outcome for '{result}'"))
        for sid in s.services:
            if sid not in flow.services:
                out.append(Finding(str(s.where), f"state '{s.id}': unknown service '{sid}'"))
        if s.action in REQUIRED_OUTCOMES or s.action == "end":
            continue
        for channel in Channel:
            if not visible_options(s, channel, callback_available=False):
                out.append(Finding(str(s.where), f"state '{s.id}' is a dead end on {channel.value}: no options lead out of it"))
                break
    if out:
        return out
    # Reachability from the start, through every edge a person can take.
    edges: dict[str, set[str]] = {sid: set() for sid in states}
    for s in states.values():
        edges[s.id] |= {o.to for o in s.options} | set(s.outcomes.values())
        edges[s.id] |= {x for x in (s.back, s.next) if x}
    everywhere = {flow.menu, "end", "callback_withdraw"} & set(states)
    seen, todo = set(), [flow.start, *everywhere]
    while todo:
        sid = todo.pop()
        if sid not in seen:
            seen.add(sid)
            todo.extend(edges[sid])
    for sid in states:
        if sid not in seen:
            out.append(Finding(str(states[sid].where), f"state '{sid}' cannot be reached from '{flow.start}'"))
    return out


def _services(flow: Flow, today: dt.date) -> list[Finding]:
    out: list[Finding] = []
    for svc in flow.services.values():
        if not svc.source.startswith(("https://", "http://")):
            out.append(Finding(str(svc.where), f"service '{svc.id}' has no source URL"))
        if not svc.verified:
            out.append(Finding(str(svc.where), f"service '{svc.id}' has not been verified against its source (add verified: YYYY-MM-DD)", warning=True))
            continue
        try:
            checked = dt.date.fromisoformat(svc.verified)
        except ValueError:
            out.append(Finding(str(svc.where), f"service '{svc.id}': verified '{svc.verified}' is not a date (YYYY-MM-DD)"))
            continue
        if (today - checked).days > 365:
            out.append(Finding(str(svc.where), f"service '{svc.id}' was last verified on {svc.verified}, over a year ago", warning=True))
    return out


def _wording(folder: Path) -> dict:
    path = folder / "wording.yaml"
    if not path.exists():
        return {"banned": [], "lock_screen": []}
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
    return {"banned": data.get("banned") or [], "lock_screen": [str(w) for w in data.get("lock_screen") or []]}


# Twilio's default opt-out words: suggested in capitals, a person might send one alone.
_SMS_OPT_OUT = re.compile(r"\b(STOP|STOPALL|UNSUBSCRIBE|CANCEL|END|QUIT|REVOKE|OPTOUT)\b")


def _replies(flow: Flow, engine: Engine, wording: dict) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    known = {_digits(n) for svc in flow.services.values() for n in svc.numbers}
    lock_words = [(w, re.compile(rf"(?<![\w-]){re.escape(w.lower())}(?![\w-])")) for w in wording["lock_screen"]]

    def report(where: str, message: str) -> None:
        if (where, message) not in seen:
            seen.add((where, message))
            out.append(Finding(where, message))

    for lang in flow.languages:
        for channel in Channel:
            for sid, what, reply in engine.previews(channel, lang):
                where = str(flow.states[sid].where if sid else flow.replies[what].text.where)
                if what not in ("state", "emergency"):
                    where = str(flow.replies[what].text.where)
                label = f"{what} in state '{sid}'" if sid else what
                text = reply.text
                if CRISIS_LINE not in text or "999" not in text:
                    reachable = [o for o in reply.options if _reply_has_number(engine, sid, o.id, channel, lang)]
                    if not reachable:
                        report(where, f"{label} on {channel.value}: the crisis number is more than one message away")
                for match in _PHONE_LIKE.findall(text.replace(SAMPLE_PHONE, "")):
                    if _digits(match) not in known:
                        report(where, f"{label}: states the number '{match.strip()}', which is not in services.yaml")
                low = text.lower()
                for rule in wording["banned"]:
                    if str(rule["phrase"]).lower() in low:
                        report(where, f"{label}: banned wording '{rule['phrase']}' ({rule['why']})")
                if reply.kind is not ReplyKind.EMERGENCY:
                    first = _FIRST_SENTENCE.match(low).group()
                    for word, pattern in lock_words:
                        if pattern.search(first):
                            report(where, f"{label}: the first line shows on a locked screen and says '{word}'")
                if channel is Channel.SMS:
                    size = measure(text)
                    bad = first_non_gsm7(text)
                    if lang == "en" and bad is not None:
                        report(where, f"{label}: SMS text is not GSM-7 (has {bad!r})")
                    for word in _SMS_OPT_OUT.findall(text):
                        report(where, f"{label}: SMS text suggests typing '{word}', which SMS providers treat as an opt-out that blocks every later text; say BYE")
                    if size.segments > MAX_SEGMENTS:
                        report(where, f"{label}: SMS reply needs {size.segments} {size.encoding} segments ({size.units} characters); the limit is {MAX_SEGMENTS}")
    return out


def _reply_has_number(engine: Engine, sid: str, option_id: str, channel: Channel, lang: str) -> bool:
    state = engine.flow.states.get(sid)
    if state is None:
        return False
    option = next((o for o in state.options if o.id == option_id), None)
    if option is None:
        return False
    target = engine.flow.states[option.to]
    for tsid, what, reply in engine.previews(channel, lang):
        if tsid == target.id and what == "state":
            return CRISIS_LINE in reply.text
    return False
