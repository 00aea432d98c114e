"""How long an SMS is: GSM-7 or UCS-2 encoding, segment counts, and splitting long bodies.

Pure functions, shared by the course preview, the planner, replies and the outbox.
"""

from __future__ import annotations

import re
from itertools import count

MAX_BODY_CHARS = 1600  # Twilio refuses a body longer than this (error 21617)

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# GSM 03.38 basic character set (without ESC, which only introduces the extension table).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these is sent as ESC + character, two septets.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE_SEPTETS, GSM7_SEGMENT_SEPTETS = 160, 153  # 7 septets go to the concatenation header
UCS2_SINGLE_UNITS, UCS2_SEGMENT_UNITS = 70, 67

# The end of a sentence: terminal punctuation (Latin and Devanagari danda), then any closing
# quotes or brackets, followed by whitespace; or a line break.
_SENTENCE_END = re.compile(r"[.!?।॥…]+[\"'”’)\]]*(?=\s)|\n")
_WHITESPACE = re.compile(r"\s")


def encoding_for(text: str) -> str:
    """GSM-7 when every character is in the GSM 03.38 tables, otherwise UCS-2."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        return GSM7
    return UCS2


def _unit_costs(text: str, encoding: str) -> list[int]:
    """What each character costs: septets for GSM-7, UTF-16 code units for UCS-2."""
    if encoding == GSM7:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def encoded_length(text: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text occupies."""
    return sum(_unit_costs(text, encoding_for(text)))


def segment_count(text: str) -> int:
    """How many SMS segments the text is billed as (at least one).

    A two-unit character (an extension character, an emoji) is never split between two
    segments, so a long text can need one segment more than its length alone suggests.
    """
    encoding = encoding_for(text)
    costs = _unit_costs(text, encoding)
    single, per_segment = (
        (GSM7_SINGLE_SEPTETS, GSM7_SEGMENT_SEPTETS)
        if encoding == GSM7
        else (UCS2_SINGLE_UNITS, UCS2_SEGMENT_UNITS)
    )
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            segments, used = segments + 1, 0
        used += cost
    return segments


def _cut_at(text: str, budget: int) -> int:
    """Where the next part ends: a sentence end in the later half of the budget, else the last
    word boundary, else (one word longer than the budget) the budget itself."""
    window = text[: budget + 1]
    sentence_end = max((m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= budget),
                       default=0)
    if sentence_end >= budget // 2 and sentence_end > 0:
        return sentence_end
    word_end = max((m.start() for m in _WHITESPACE.finditer(window)), default=0)
    return word_end if word_end > 0 else budget


def _pack(text: str, budget: int) -> list[str]:
    parts: list[str] = []
    while len(text) > budget:
        cut = _cut_at(text, budget)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def split_body(text: str, limit: int = MAX_BODY_CHARS) -> list[str]:
    """The text as one or more message bodies of at most `limit` characters each.

    Leading and trailing whitespace is dropped; an empty text has no parts. A text that fits is
    returned whole; a longer one is cut at sentence ends, then at word boundaries (only a single
    word longer than a part is cut inside), and each part is numbered "(1/3) ".
    """
    body = text.strip()
    if not body:
        return []
    if len(body) <= limit:
        return [body]
    for digits in count(1):
        most = 10**digits - 1
        budget = limit - len(f"({most}/{most}) ")
        if budget < 1:
            raise ValueError(f"limit {limit} is too small to number the parts")
        parts = _pack(body, budget)
        if len(parts) <= most:
            return [f"({number}/{len(parts)}) {part}" for number, part in enumerate(parts, 1)]
    raise AssertionError("unreachable")
