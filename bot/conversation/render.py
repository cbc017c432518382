"""Turning a state of the flow into the text a person reads on a given channel.

One function decides what every channel shows, so ``frontdoor flow check`` can
measure exactly what an SMS user will receive (segments, GSM-7) by calling
the same code the engine calls.

Order inside a message: the state's text, the services it lists, the numbered
options (SMS and terminal only), then the footer with the number and 999. The
footer is never first: the first line shows on a locked phone's screen.

A standalone message on SMS (help, not understood, the emergency reply ...)
repeats the numbered options only when the whole text still fits in
:data:`~bot.conversation.sms.MAX_SEGMENTS` segments; otherwise it points to the
list in the message above (``options_above``). Welsh needs UCS-2, 67 characters
a segment, so without this a Welsh "help" would cost five texts.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from bot.conversation.events import Channel, Option, Reply, ReplyKind
from bot.conversation.flow import Flow, FlowOption, Message, State
from bot.conversation.sms import MAX_SEGMENTS, measure


LANG_MARK = "@"  # option ids in a non-English reply end "@cy": a button pressed after its session ended still answers in Welsh


def option_id(option: str, lang: str) -> str:
    """The id a button carries: the option, and the language of the message it sits on unless English."""
    return option if lang == "en" else f"{option}{LANG_MARK}{lang}"


def visible_options(state: State, channel: Channel, callback_available: bool) -> tuple[FlowOption, ...]:
    """The options this channel shows in this state, in order."""
    return tuple(
        o
        for o in state.options
        if (o.channels is None or channel.value in o.channels) and (o.needs != "callback" or callback_available)
    )


def _numbered(options: Iterable[Option]) -> str:
    return "\n".join(f"{i} {o.label}" for i, o in enumerate(options, 1))


def compose(
    flow: Flow,
    lang: str,
    channel: Channel,
    body: str,
    options: tuple[Option, ...],
    *,
    footer: bool = True,
    kind: ReplyKind = ReplyKind.MESSAGE,
    standalone: bool = False,
) -> Reply:
    """Assemble one reply: body, numbered options where the channel types them, footer."""
    tail = [footer_text(flow, lang, channel)] if footer else []
    listed = [_numbered(options)] if options and channel.numbered else []
    text = "\n".join(p for p in [body.strip(), *listed, *tail] if p)
    if standalone and listed and channel is Channel.SMS and "options_above" in flow.replies and measure(text).segments > MAX_SEGMENTS:
        hint = message_text(flow.replies["options_above"], lang, channel)
        text = "\n".join(p for p in [body.strip(), hint, *tail] if p)
    return Reply(text=text, options=options, kind=kind, lang=lang)


def footer_text(flow: Flow, lang: str, channel: Channel) -> str:
    """The line with the number and 999 that ends routine messages (a shorter one on SMS if given)."""
    if channel.short_texts and flow.footer_sms is not None and flow.footer_sms.has(lang):
        return flow.footer_sms.get(lang)
    return flow.footer.get(lang)


def state_body(flow: Flow, state: State, lang: str, channel: Channel, slots: Mapping[str, str] | None = None) -> str:
    """The state's own text and service list, with callback slots filled in."""
    text = state.sms if (channel.short_texts and state.sms and state.sms.has(lang)) else state.text
    body = text.get(lang) if text else ""
    if slots is not None and "{" in body:
        body = body.format_map(_SafeSlots(slots))
    lines = [body]
    for sid in state.services:
        service = flow.services[sid]
        if service.languages is not None and lang not in service.languages:
            continue
        line = service.line_sms if (channel.short_texts and service.line_sms and service.line_sms.has(lang)) else service.line
        if line:
            lines.append(line.get(lang))
    return "\n".join(lines)


def state_reply(
    flow: Flow,
    state: State,
    lang: str,
    channel: Channel,
    callback_available: bool,
    slots: Mapping[str, str] | None = None,
) -> Reply:
    options = tuple(Option(option_id(o.id, lang), o.label.get(lang)) for o in visible_options(state, channel, callback_available))
    return compose(flow, lang, channel, state_body(flow, state, lang, channel, slots), options, footer=state.footer)


def message_text(message: Message, lang: str, channel: Channel) -> str:
    text = message.sms if (channel.short_texts and message.sms and message.sms.has(lang)) else message.text
    return text.get(lang)


class _SafeSlots(dict):
    """str.format_map that leaves unknown placeholders visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
