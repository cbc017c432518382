"""What goes into the engine and what comes out of it.

The engine speaks only in these small frozen dataclasses. A channel turns its
payload into an :class:`Inbound`, hands it to the gateway, and turns the
:class:`Reply` objects that come back into its own form (buttons, a numbered
SMS menu, web chat JSON, terminal text). Actions are things the engine wants
done but never does itself: submitting a callback request, ending the
session, sending a contact card. The gateway or the channel carries them out.

Nothing here holds message text beyond the one inbound message being handled;
a :class:`Reply` is always text from flows/, never an echo of the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Channel(str, Enum):
    """The ways in. SMS and the terminal get numbered menus and the short texts."""

    TELEGRAM = "telegram"
    SMS = "sms"
    WEB = "web"
    TERMINAL = "terminal"

    @property
    def numbered(self) -> bool:
        """True where options are typed as numbers rather than pressed as buttons."""
        return self in (Channel.SMS, Channel.TERMINAL)

    @property
    def short_texts(self) -> bool:
        """True where the flow's ``sms`` variant of a text is used."""
        return self in (Channel.SMS, Channel.TERMINAL)


class InboundKind(str, Enum):
    TEXT = "text"  # something typed
    CHOICE = "choice"  # a button pressed: ``choice`` holds the option id
    START = "start"  # a fresh start (/start on Telegram, page load on web chat)
    UNREADABLE = "unreadable"  # voice, photo, sticker, location, a document
    CONTACT = "contact"  # a contact card shared (Telegram): ``phone`` holds its number


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a person did, already verified and parsed by a channel.

    ``text`` lives only for the length of one ``handle`` call: the engine
    never copies it into the session, a reply, a log or an action.
    ``sender_phone`` is set by the SMS channel (E.164), so the callback flow can
    offer "this number"; other channels leave it empty.
    """

    channel: Channel
    kind: InboundKind = InboundKind.TEXT
    text: str = ""
    choice: str = ""
    phone: str = ""
    sender_phone: str = ""

    @classmethod
    def typed(cls, channel: Channel, text: str, *, sender_phone: str = "") -> "Inbound":
        return cls(channel=channel, kind=InboundKind.TEXT, text=text, sender_phone=sender_phone)

    @classmethod
    def pressed(cls, channel: Channel, choice: str, *, sender_phone: str = "") -> "Inbound":
        return cls(channel=channel, kind=InboundKind.CHOICE, choice=choice, sender_phone=sender_phone)


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered with a reply: ``id`` comes back in :attr:`Inbound.choice`."""

    id: str
    label: str


class ReplyKind(str, Enum):
    MESSAGE = "message"
    EMERGENCY = "emergency"  # the triage reply: 999 and the crisis line come first


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send. ``text`` always comes from reviewed texts in flows/."""

    text: str
    options: tuple[Option, ...] = ()
    kind: ReplyKind = ReplyKind.MESSAGE
    lang: str = "en"  # the language it is written in: web chat marks it up so screen readers pronounce it right


# --- actions: what the engine asks others to do --------------------------------------


@dataclass(frozen=True, slots=True)
class CallbackDetails:
    """What the crisis team needs to call someone back, and nothing more.

    No risk flag and nothing the person wrote: the counsellor makes the
    assessment. ``window`` is an English phrase for the team ("as soon as
    possible", "after 19:00 (after their shift)").
    """

    phone: str  # E.164
    window: str
    voicemail_ok: bool
    say_who_is_calling: bool
    channel: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitCallback:
    """Write the request durably and queue it for the crisis team.

    The gateway answers with :meth:`Engine.resolve` and outcome ``"ok"`` (the
    request id goes into the session so it can be withdrawn) or ``"failed"``.
    """

    details: CallbackDetails


@dataclass(frozen=True, slots=True)
class CancelCallback:
    """Withdraw a request not yet delivered. Outcomes: ``withdrawn``, ``delivered``, ``unknown``."""

    request_id: str


@dataclass(frozen=True, slots=True)
class SendContactCard:
    """Send the crisis line as a contact card (Telegram) or .vcf (web chat)."""


@dataclass(frozen=True, slots=True)
class ClearChat:
    """Offer or perform "delete this conversation from my phone" where the channel can."""


@dataclass(frozen=True, slots=True)
class EndSession:
    """The session is over: wipe every trace of it. ``reason`` feeds a metric."""

    reason: str


@dataclass(frozen=True, slots=True)
class CountFeedback:
    """The one-tap "was this useful?" answer: an aggregate counter, nothing else."""

    useful: bool


@dataclass(frozen=True, slots=True)
class CountUrgent:
    """Triage fired. Only a process-wide counter may move: no flag is stored on anyone."""


Action = (
    SubmitCallback | CancelCallback | SendContactCard | ClearChat | EndSession | CountFeedback | CountUrgent
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one ``handle`` or ``resolve`` call produced."""

    replies: tuple[Reply, ...] = ()
    actions: tuple[Action, ...] = ()

    @property
    def ended(self) -> bool:
        return any(isinstance(a, EndSession) for a in self.actions)

    @property
    def pending(self) -> SubmitCallback | CancelCallback | None:
        """The action whose result decides the next replies, if any."""
        for a in self.actions:
            if isinstance(a, (SubmitCallback, CancelCallback)):
                return a
        return None
