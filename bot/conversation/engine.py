"""The engine: one inbound event and a session in, replies and actions out.

``Engine.handle(session, inbound, now)`` is the whole conversation. It does no
I/O and has no clock: ``now`` comes in, the session is changed in place, and
an :class:`Outcome` comes back. The order inside it is the safety case:

1. A session idle past the timeout is over: it starts afresh, with a note.
2. **Triage first.** Typed text is checked for immediate danger before any
   state logic. If it fires, the emergency reply (999 and the crisis line
   first) goes out, the person stays where they were, and nothing is stored.
3. Global words (number, 999, menu, back, help, end, cancel my call back).
4. The state's options, by number, by button, or by the words of the label.
5. Free input the state asks for (a phone number, a time).
6. Anything else: a kind "I can't read that" with the options and the number.

Every reply carries 0300 131 2789 and 999 (the footer, or the text itself), so
the number is never more than one message away; a property test holds the
engine to it. Replies are texts from flows/ only; the one thing of the
person's that is ever shown back is their callback number, normalised, on the
summary they confirm.

When the flow reaches a state with an action that has a result (submitting or
withdrawing a callback), the engine returns the action and no reply. The
gateway carries it out and calls :meth:`Engine.resolve` with the result, so
the person is told the request is with the team only after it really is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bot.conversation import machine as m
from bot.conversation.events import (
    Action,
    CallbackDetails,
    CancelCallback,
    Channel,
    ClearChat,
    CountFeedback,
    CountUrgent,
    EndSession,
    Inbound,
    InboundKind,
    Option,
    Outcome,
    Reply,
    ReplyKind,
    SendContactCard,
    SubmitCallback,
)
from bot.conversation.flow import Flow, State, load_flow
from bot.conversation.matching import OptionMatcher, WordMatcher, normalise
from bot.conversation.phone import format_national, parse_time, parse_uk_phone
from bot.conversation.render import LANG_MARK, compose, message_text, option_id, state_reply, visible_options
from bot.conversation.session import Session
from bot.conversation.triage import Triage

FRESH = ""  # the state of a session that has not been greeted yet
LANGUAGE_INTENTS = {"english": "en", "cymraeg": "cy"}  # global words that switch language
CRISIS_LINE_E164 = "+443001312789"
_ACTIONS_WITH_RESULT = ("submit_callback", "cancel_callback")


@dataclass(frozen=True, slots=True)
class EngineOptions:
    idle_seconds: float = 1800
    callback_available: bool = True
    allow_fictional_numbers: bool = False
    languages: tuple[str, ...] = ("en",)  # offered; the first is the default


class Engine:
    """The conversation, built once per process from flows/."""

    def __init__(self, flow: Flow, triage: Triage, options: EngineOptions = EngineOptions()) -> None:
        self.flow = flow
        self.triage = triage
        self.options = options
        stale = tuple(s for s in (flow.menu, "end") if s in flow.states)
        self.machine = m.FlowMachine(flow, stale_sources=stale)
        self._stale_ids = {o.id for sid in stale for o in flow.states[sid].options}
        self.intents = WordMatcher({name: intent.words for name, intent in flow.intents.items()})
        self._matchers = {sid: OptionMatcher(s.options) for sid, s in flow.states.items()}
        self._cache: dict[tuple[str, str, Channel], Reply] = {}
        self._visible: dict[tuple[str, Channel], tuple] = {}

    @classmethod
    def from_dir(cls, folder: Path, options: EngineOptions = EngineOptions(), *, flow: Flow | None = None) -> "Engine":
        """The engine for a flows folder. ``flow``: that folder's flow, when the caller has
        already loaded it (the runtime reads it once to decide which languages to offer)."""
        return cls(flow or load_flow(folder), Triage.load(Path(folder) / "triage.yaml"), options)

    # --- sessions -------------------------------------------------------------------

    def new_session(self, now: float) -> Session:
        return Session.new(FRESH, now)

    # --- the one entry point ----------------------------------------------------------

    def handle(self, session: Session, inbound: Inbound, now: float) -> Outcome:
        notes: list[str] = []
        if session.state != FRESH and session.idle_for(now) > self.options.idle_seconds:
            self._reset(session, now)
            notes.append(self._message("idle_cleared", session.lang, inbound.channel))
        session.last_seen = now

        if inbound.kind is InboundKind.TEXT and self.triage.classify(inbound.text, learned=not self._recognised(session, inbound.text)).urgent:
            return self._emergency(session, inbound.channel, actions=(CountUrgent(),))

        if session.state in self.flow.states and self.flow.states[session.state].action in _ACTIONS_WITH_RESULT:
            # A message arrived while a submit was unresolved (a crash between the
            # two calls). We cannot know it was sent, so say so and give the number.
            session.state = self.flow.menu
            notes.append(self._message("pending_unknown", session.lang, inbound.channel))

        if inbound.kind is InboundKind.START:
            self._reset(session, now)
            return self._greet(session, inbound.channel, notes)
        if inbound.kind is InboundKind.UNREADABLE:
            if session.state == FRESH:
                return self._greet(session, inbound.channel, [self._message("unreadable", session.lang, inbound.channel)])
            return self._with_prompt(session, inbound.channel, "unreadable", notes)

        if inbound.kind is InboundKind.CHOICE:
            return self._choice(session, inbound, notes)
        if inbound.kind is InboundKind.CONTACT:
            return self._typed(session, inbound, inbound.phone, notes)
        return self._typed(session, inbound, inbound.text, notes)

    def resolve(self, session: Session, result: str, now: float, *, request_id: str = "") -> Outcome:
        """The result of a submit or cancel action: move on and say what really happened."""
        state = self.flow.states.get(session.state)
        if state is None or result not in state.outcomes:
            result = "failed" if state is not None and "failed" in state.outcomes else "unknown"
        session.last_seen = now
        if state is not None and state.action == "submit_callback" and result == "ok" and request_id:
            session.slots["callback_id"] = request_id
        if state is not None and state.action == "cancel_callback" and result in ("withdrawn", "delivered"):
            session.slots.pop("callback_id", None)
        channel = Channel(session.slots.get("channel", Channel.TERMINAL.value))
        trigger = m.outcome_trigger(result)
        if state is None or not self.machine.can(session.state, trigger):
            session.state = self.flow.menu
            return Outcome((self._compose_message("pending_unknown", session.lang, channel),))
        return self._enter(session, trigger, channel, [])

    def standalone(self, message_id: str, lang: str, channel: Channel) -> Reply:
        """A message from flows/ on its own (rate limited, degraded), with the footer where it has one."""
        return self._compose_message(message_id, lang, channel)

    def fallback_reply(self, lang: str, channel: Channel) -> Reply:
        """For the gateway when something below the engine fails: sorry, and the number."""
        return self._compose_message("degraded", lang, channel)

    def option(self, option_id_: str, lang: str) -> Option | None:
        """The flow's option ``option_id_`` as a button in ``lang``, wherever it is offered (None if nowhere)."""
        for state in self.flow.states.values():
            for o in state.options:
                if o.id == option_id_:
                    return Option(option_id(o.id, lang), o.label.get(lang))
        return None

    def guess_language(self, text: str) -> str:
        """The language a message is written in, for replies made without a session (store down, flood)."""
        return self._detect(normalise(text))

    def triage_only(self, text: str, lang: str, channel: Channel) -> Reply | None:
        """The emergency reply if ``text`` signals danger, else None. For paths with no session
        (degraded mode, rate limited): triage still comes first."""
        if not self.triage.classify(text).urgent:
            return None
        body = self._message("emergency", lang, channel)
        return compose(self.flow, lang, channel, body, (), footer=False, kind=ReplyKind.EMERGENCY)

    def previews(self, channel: Channel, lang: str = "en"):
        """Every reply this engine can send on ``channel``: ``(state id, what, Reply)``.

        The flow check measures these (SMS segments, GSM-7, the number in every
        reply, wording rules), so it judges exactly what people receive.
        """
        sample = {"phone": "+447700900123", "window": "evening", "voicemail_ok": "yes", "say_who_is_calling": "no"}
        longest_window = max(self.flow.values.get("window", {}), key=lambda k: len(self._value("window", k, "person", lang)), default="asap")
        prompts = ("not_understood", "unreadable", "help", "number", "no_callback_to_cancel", "idle_cleared")
        for sid, state in self.flow.states.items():
            session = Session.new(sid, 0.0, lang)
            session.slots.update(sample, window="after:19:00" if longest_window == "after" else longest_window)
            if state.action not in _ACTIONS_WITH_RESULT:
                yield sid, "state", self._state_reply(session, state, channel, [])
            for message_id in prompts:
                if message_id in self.flow.replies:
                    yield sid, message_id, self._with_prompt(session, channel, message_id, []).replies[0]
            if state.input == "phone":
                yield sid, "bad_phone", self._with_prompt(session, channel, "bad_phone", []).replies[0]
            if state.input == "time":
                yield sid, "bad_time", self._with_prompt(session, channel, "bad_time", []).replies[0]
            yield sid, "emergency", self._emergency(session, channel).replies[0]
        for message_id in ("callback_unavailable", "pending_unknown", "feedback_thanks", "rate_limited", "degraded"):
            if message_id in self.flow.replies:
                yield "", message_id, self._compose_message(message_id, lang, channel)

    # --- what the person did ----------------------------------------------------------

    def _choice(self, session: Session, inbound: Inbound, notes: list[str]) -> Outcome:
        choice, _, lang = inbound.choice.partition(LANG_MARK)
        if lang and session.state == FRESH and lang in self.options.languages:
            session.lang = lang  # a button from a Welsh message pressed after its session ended
        if lang:
            inbound = replace(inbound, choice=choice)
        if choice in self.flow.intents:
            return self._intent(session, inbound.channel, choice, notes)
        if session.state == FRESH:
            session.state = self.flow.start
        trigger = m.option_trigger(choice)
        if self.machine.can(session.state, trigger):
            option = next(o for o in self.flow.states[session.state].options if o.id == choice)
            return self._take(session, inbound, option, notes)
        if choice in self._stale_ids:
            option = next(o for sid in (self.flow.menu, "end") for o in self.flow.states[sid].options if o.id == choice)
            return self._take(session, inbound, option, notes, stale=True)
        return self._with_prompt(session, inbound.channel, "not_understood", notes)

    def _typed(self, session: Session, inbound: Inbound, text: str, notes: list[str]) -> Outcome:
        words = normalise(text)
        if session.state == FRESH:
            session.lang = self._detect(words)
        intent = self.intents.match(words)
        if intent:
            return self._intent(session, inbound.channel, intent, notes)
        if session.state == FRESH:
            return self._greet(session, inbound.channel, notes)
        state = self.flow.states[session.state]
        option = self._matchers[state.id].match(words, self._shown(state, inbound.channel), session.lang)
        if option is not None:
            return self._take(session, inbound, option, notes)
        if state.input == "phone":
            phone = parse_uk_phone(text, allow_fictional=self.options.allow_fictional_numbers)
            if phone and phone != CRISIS_LINE_E164:
                session.slots["phone"] = phone
                return self._enter(session, m.FlowMachine.INPUT, inbound.channel, notes)
            return self._with_prompt(session, inbound.channel, "bad_phone", notes)
        if state.input == "time":
            time = parse_time(text)
            if time:
                session.slots["window"] = f"after:{time}"
                return self._enter(session, m.FlowMachine.INPUT, inbound.channel, notes)
            return self._with_prompt(session, inbound.channel, "bad_time", notes)
        return self._with_prompt(session, inbound.channel, "not_understood", notes)

    def _recognised(self, session: Session, text: str) -> bool:
        """Is ``text`` an answer the conversation already understands (a menu word, an option,
        the phone number or time asked for)? Then it is not free text: the rules still read
        it, but the learned layer, which knows nothing of menus, does not. "send it" is a
        button's words, not a goodbye; "1 but I've taken the lot" is free text."""
        words = normalise(text)
        if self.intents.match(words):
            return True
        state = self.flow.states.get(session.state)
        if state is None:
            return False
        if self._matchers[state.id].match(words, state.options, session.lang) is not None:
            return True
        if state.input == "phone":
            return parse_uk_phone(text, allow_fictional=True) is not None
        if state.input == "time":
            return parse_time(text) is not None
        return False

    def _intent(self, session: Session, channel: Channel, name: str, notes: list[str]) -> Outcome:
        if name == "emergency":
            if session.state == FRESH:
                session.state = self.flow.start
            return self._emergency(session, channel)
        if name in ("number", "help"):
            if session.state == FRESH:
                session.state = self.flow.start
            return self._with_prompt(session, channel, name, notes)
        if name == "menu":
            return self._enter(session, m.MENU, channel, notes)
        if name == "back":
            if session.state == FRESH:
                return self._greet(session, channel, notes)
            return self._enter(session, m.FlowMachine.BACK, channel, notes)
        if name == "end":
            return self._enter(session, m.END, channel, notes)
        if name in LANGUAGE_INTENTS:
            lang = LANGUAGE_INTENTS[name]
            if lang not in self.options.languages:
                return self._with_prompt(session, channel, "not_understood", notes)
            session.lang = lang
            if session.state == FRESH:
                return self._greet(session, channel, notes)
            return Outcome((self._state_reply(session, self.flow.states[session.state], channel, notes),))
        if name == "cancel_callback":
            if session.state == FRESH:
                session.state = self.flow.start
            if session.slots.get("callback_id"):
                return self._enter(session, m.WITHDRAW, channel, notes)
            return self._with_prompt(session, channel, "no_callback_to_cancel", notes)
        return self._with_prompt(session, channel, "not_understood", notes)

    def _take(self, session: Session, inbound: Inbound, option, notes: list[str], stale: bool = False) -> Outcome:
        for slot, value in option.set.items():
            if value == "@sender":
                if not inbound.sender_phone:
                    return self._with_prompt(session, inbound.channel, "not_understood", notes)
                value = inbound.sender_phone
            session.slots[slot] = value
        extra: tuple[Action, ...] = ()
        if option.count:
            extra = (CountFeedback(useful=option.count == "useful"),)
        trigger = m.stale_trigger(option.id) if stale else m.option_trigger(option.id)
        outcome = self._enter(session, trigger, inbound.channel, notes)
        return Outcome(outcome.replies, extra + outcome.actions) if extra else outcome

    # --- moving and speaking ----------------------------------------------------------

    def _enter(self, session: Session, trigger: str, channel: Channel, notes: list[str]) -> Outcome:
        session.state = self.machine.move(session.state or self.flow.start, trigger)
        state = self.flow.states[session.state]
        if state.action in _ACTIONS_WITH_RESULT:
            session.slots["channel"] = channel.value
            if state.action == "submit_callback":
                details = self._details(session)
                if details is None:  # slots lost: ask again from the start of the request
                    session.state = self.flow.states[self.flow.menu].id
                    return self._with_prompt(session, channel, "pending_unknown", notes)
                return Outcome(actions=(SubmitCallback(details),))
            request_id = str(session.slots.get("callback_id", ""))
            return Outcome(actions=(CancelCallback(request_id),))
        reply = self._state_reply(session, state, channel, notes)
        actions: tuple[Action, ...] = ()
        if state.action == "end":
            actions = (EndSession("user"),)
        elif state.action == "send_contact":
            actions = (SendContactCard(),)
        elif state.action == "clear_chat":
            actions = (ClearChat(),)
        return Outcome((reply,), actions)

    def _state_reply(self, session: Session, state: State, channel: Channel, notes: list[str]) -> Reply:
        if state.id.startswith("callback_confirm"):
            reply = state_reply(self.flow, state, session.lang, channel, self.options.callback_available, self._summary(session))
        else:
            key = (state.id, session.lang, channel)
            reply = self._cache.get(key)
            if reply is None:
                reply = state_reply(self.flow, state, session.lang, channel, self.options.callback_available)
                if state.id == self.flow.start:
                    reply = self._offer_languages(reply, session.lang, channel)
                self._cache[key] = reply
        if notes:
            reply = Reply("\n".join(notes) + "\n\n" + reply.text, reply.options, reply.kind, reply.lang)
        return reply

    def _offer_languages(self, reply: Reply, lang: str, channel: Channel) -> Reply:
        """The first message offers the other language in one short line (a button where there are buttons)."""
        others = [x for x in self.options.languages if x != lang]
        if not others or "language_offer" not in self.flow.replies:
            return reply
        offer = self._message("language_offer", lang, channel)
        intent = next(name for name, code in LANGUAGE_INTENTS.items() if code == others[0])
        if channel.numbered:
            return Reply(reply.text + "\n" + offer, reply.options, reply.kind, reply.lang)
        return Reply(reply.text, reply.options + (Option(intent, offer),), reply.kind, reply.lang)

    def _detect(self, words: str) -> str:
        """The language of a first message, from the flow's list of words ("shwmae", "dw i") per language."""
        if len(self.options.languages) < 2:
            return self.options.languages[0]
        padded = f" {words} "
        for lang, phrases in self.flow.detect.items():
            if lang in self.options.languages and any(f" {normalise(p)} " in padded for p in phrases):
                return lang
        return self.options.languages[0]

    def _greet(self, session: Session, channel: Channel, notes: list[str]) -> Outcome:
        session.state = self.flow.start
        return Outcome((self._state_reply(session, self.flow.states[self.flow.start], channel, notes),))

    def _with_prompt(self, session: Session, channel: Channel, message_id: str, notes: list[str]) -> Outcome:
        """A standalone message, then the options of where the person is."""
        if session.state == FRESH:
            session.state = self.flow.start
        key = (f"{message_id}@{session.state}", session.lang, channel)
        reply = None if notes else self._cache.get(key)
        if reply is None:
            state = self.flow.states[session.state]
            body = "\n".join(notes + [self._message(message_id, session.lang, channel)])
            message = self.flow.replies[message_id]
            options = self._options(state, session.lang, channel)
            reply = compose(self.flow, session.lang, channel, body, options, footer=message.footer, standalone=True)
            if not notes:
                self._cache[key] = reply
        return Outcome((reply,))

    def _emergency(self, session: Session, channel: Channel, actions: tuple[Action, ...] = ()) -> Outcome:
        if session.state == FRESH:
            session.state = self.flow.start
        state = self.flow.states[session.state]
        # A question is pending where the state asks one: not the welcome or the menu, and
        # not a directory page. Then the emergency reply stands alone and the question comes
        # back after it, with its options, so an urgent message mid call back loses nothing.
        pending = state.id not in (self.flow.start, self.flow.menu) and not state.services and state.text is not None
        key = (f"!emergency@{session.state}", session.lang, channel)
        reply = self._cache.get(key)
        if reply is None:
            lang = session.lang
            body = self._message("emergency", lang, channel)
            options = () if pending else self._options(state, lang, channel)
            if options or pending:
                body += "\n\n" + self._message("emergency_return", lang, channel)
            reply = compose(self.flow, lang, channel, body, options, footer=False, kind=ReplyKind.EMERGENCY, standalone=True)
            self._cache[key] = reply
        if pending:
            return Outcome((reply, self._state_reply(session, state, channel, [])), actions)
        return Outcome((reply,), actions)

    def _shown(self, state: State, channel: Channel):
        key = (state.id, channel)
        shown = self._visible.get(key)
        if shown is None:
            shown = self._visible[key] = visible_options(state, channel, self.options.callback_available)
        return shown

    def _options(self, state: State, lang: str, channel: Channel) -> tuple[Option, ...]:
        return tuple(Option(option_id(o.id, lang), o.label.get(lang)) for o in visible_options(state, channel, self.options.callback_available))

    def _message(self, message_id: str, lang: str, channel: Channel) -> str:
        return message_text(self.flow.replies[message_id], lang, channel)

    def _compose_message(self, message_id: str, lang: str, channel: Channel) -> Reply:
        message = self.flow.replies[message_id]
        return compose(self.flow, lang, channel, message_text(message, lang, channel), (), footer=message.footer)

    def _reset(self, session: Session, now: float) -> None:
        session.state = FRESH
        session.slots.clear()
        session.message_ids.clear()
        session.started_at = now
        session.lang = self.options.languages[0]  # the language choice goes with the session

    # --- the callback request -------------------------------------------------------

    def _value(self, slot: str, code: str, audience: str, lang: str = "en") -> str:
        table = self.flow.values.get(slot, {})
        if code.startswith("after:"):
            entry = table.get("after", {})
            template = entry.get(audience if audience == "team" else lang) or entry.get("en", "after {time}")
            return template.format(time=code.split(":", 1)[1])
        entry = table.get(code, {})
        return entry.get(audience if audience == "team" else lang) or entry.get("en") or code

    def _summary(self, session: Session) -> dict[str, str]:
        s, lang = session.slots, session.lang
        return {
            "phone": format_national(str(s.get("phone", ""))),
            "window": self._value("window", str(s.get("window", "asap")), "person", lang),
            "voicemail": self._value("voicemail_ok", str(s.get("voicemail_ok", "no")), "person", lang),
            "say_who": self._value("say_who_is_calling", str(s.get("say_who_is_calling", "no")), "person", lang),
        }

    def _details(self, session: Session) -> CallbackDetails | None:
        s = session.slots
        if not s.get("phone"):
            return None
        return CallbackDetails(
            phone=str(s["phone"]),
            window=self._value("window", str(s.get("window", "asap")), "team"),
            voicemail_ok=s.get("voicemail_ok") == "yes",
            say_who_is_calling=s.get("say_who_is_calling") == "yes",
            channel=str(s.get("channel", "terminal")),
        )


__all__ = ["Engine", "EngineOptions", "FRESH"]
