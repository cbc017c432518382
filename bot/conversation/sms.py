"""How many SMS segments a text costs, and in which encoding.

A text that fits GSM-7 (the 3GPP 23.038 alphabet, through the ``gsm0338``
codec, which counts the escaped characters such as ``{`` and ``€`` as two) is
160 septets in one segment and 153 a segment when split. Anything else (emoji,
curly quotes, Welsh â ŵ ŷ) turns the whole text into UCS-2: 70 characters, or
67 a segment when split. The flow check holds every SMS reply to
:data:`MAX_SEGMENTS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

MAX_SEGMENTS = 3


@dataclass(frozen=True, slots=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def gsm7_length(text: str) -> int | None:
    """Septets ``text`` needs in GSM-7, or None if it has a character GSM-7 lacks."""
    try:
        return len(text.encode("gsm03.38"))
    except UnicodeEncodeError:
        return None


def first_non_gsm7(text: str) -> str | None:
    for ch in text:
        if gsm7_length(ch) is None:
            return ch
    return None


def measure(text: str) -> SmsSize:
    septets = gsm7_length(text)
    if septets is not None:
        return SmsSize("GSM-7", septets, 1 if septets <= 160 else math.ceil(septets / 153))
    units = len(text.encode("utf-16-le")) // 2
    return SmsSize("UCS-2", units, 1 if units <= 70 else math.ceil(units / 67))
