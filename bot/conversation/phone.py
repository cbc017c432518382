"""Reading a UK phone number or a time of day out of what someone typed.

Numbers are validated and normalised with ``phonenumbers`` (E.164). Ofcom's
drama range 07700 900000-900999 is reserved for fiction and ``phonenumbers``
rightly calls it invalid; we accept it only when ``allow_fictional`` is set
(``FRONTDOOR_ENV`` development or test), so every test can use it and no real
person's number ever appears in test data.
"""

from __future__ import annotations

import re

import phonenumbers

_CANDIDATE = re.compile(r"\+?\d[\d\s\-().]{8,18}\d")
_FICTIONAL = re.compile(r"^7700900\d{3}$")


def parse_uk_phone(text: str, *, allow_fictional: bool = False) -> str | None:
    """The UK number in ``text`` as E.164 (``+447700900123``), or None."""
    match = _CANDIDATE.search(text)
    if not match:
        return None
    raw = re.sub(r"[^\d+]", "", match.group())
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 44:
        return None
    national = str(number.national_number)
    if (allow_fictional and _FICTIONAL.match(national)) or phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def format_national(e164: str) -> str:
    """``+447700900123`` as ``07700 900123``, the way people read their own number."""
    try:
        number = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return e164
    national = str(number.national_number)
    if _FICTIONAL.match(national):
        return f"0{national[:4]} {national[4:]}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


_TIME = re.compile(
    r"^\s*(?:at\s+|about\s+|around\s+)?(?P<h>\d{1,2})(?:[:.]?(?P<m>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.|yb|yh|y\.b\.|y\.h\.)?\s*$"
)


def parse_time(text: str) -> str | None:
    """A clock time as ``HH:MM`` (24-hour), or None when it can't be read without guessing.

    "7am", "7.30pm", "19:00", "1900", "noon", "midnight" are read, and the Welsh
    "7yb" (y bore), "7yh" (yr hwyr), "canol dydd" and "hanner nos"; a bare "7" is
    not, because guessing morning or evening wrong would mean a call at the
    wrong time.
    """
    low = text.strip().lower()
    if low in ("noon", "midday", "12 noon", "canol dydd", "hanner dydd", "12 hanner dydd"):
        return "12:00"
    if low in ("midnight", "hanner nos"):
        return "00:00"
    m = _TIME.match(low)
    if not m:
        return None
    hour, minute, ampm = int(m.group("h")), int(m.group("m") or 0), m.group("ampm")
    if minute > 59:
        return None
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.startswith(("p", "y.h", "yh")) else 0)
    elif m.group("m") is None or hour > 23:
        return None
    return f"{hour:02d}:{minute:02d}"
