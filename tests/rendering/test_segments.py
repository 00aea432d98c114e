"""SMS encoding, segment counts and splitting of long bodies (pure functions)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ekatra.rendering.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_BODY_CHARS,
    encoded_length,
    encoding_for,
    segment_count,
    split_body,
)

PREFIX = re.compile(r"^\((\d+)/(\d+)\) ")
gsm_basic_text = st.text(alphabet=sorted(GSM7_BASIC - {"\r"}), min_size=1)
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzअआइकखग.!?,", min_size=1, max_size=12)
separators = st.sampled_from([" ", "  ", "\n", ". ", "! ", "। ", "\n\n"])


@st.composite
def prose(draw, min_words=1, max_words=400):
    chosen = draw(st.lists(words, min_size=min_words, max_size=max_words))
    text = chosen[0]
    for word in chosen[1:]:
        text += draw(separators) + word
    return text


def _without_prefixes(parts: list[str]) -> list[str]:
    if len(parts) == 1:
        return parts
    return [PREFIX.sub("", part, count=1) for part in parts]


def test_plain_english_is_gsm7_and_hindi_or_emoji_is_ucs2():
    assert encoding_for("Hello, world! 2+2=4 @ £5") == "GSM-7"
    assert encoding_for("Reply {yes} or [no] ~ €") == "GSM-7"
    assert encoding_for("नमस्ते") == "UCS-2"
    assert encoding_for("Well done 👍") == "UCS-2"
    assert encoding_for("café, mañana") == "GSM-7"  # é and ñ are in the GSM 03.38 table
    assert encoding_for("São Paulo") == "UCS-2"  # ã is not
    assert encoding_for("") == "GSM-7"


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2),
                                                  (307, 3), (459, 3), (460, 4)])
def test_gsm7_segments_are_160_alone_and_153_when_concatenated(length, segments):
    assert segment_count("a" * length) == segments


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segments_are_70_alone_and_67_when_concatenated(length, segments):
    assert segment_count("क" * length) == segments


def test_extension_characters_count_as_two_septets():
    assert encoded_length("€") == 2
    assert segment_count("€" * 80) == 1
    assert segment_count("€" * 81) == 2
    assert segment_count("a" * 159 + "€") == 2
    assert segment_count("a" * 158 + "€") == 1


def test_emoji_count_as_two_utf16_units():
    assert encoded_length("👍") == 2
    assert segment_count("👍" * 35) == 1
    assert segment_count("👍" * 36) == 2
    assert segment_count("👍" + "क" * 69) == 2


def test_an_empty_text_is_one_segment_and_has_no_parts():
    assert segment_count("") == 1
    assert split_body("") == []
    assert split_body(" \n ") == []


@given(gsm_basic_text)
def test_gsm7_basic_characters_cost_one_septet_each(text):
    assert encoding_for(text) == "GSM-7"
    assert encoded_length(text) == len(text)
    assert segment_count(text) == (1 if len(text) <= 160 else -(-len(text) // 153))


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION)))
def test_gsm7_segments_hold_at_most_their_septets(text):
    septets = len(text) + sum(ch in GSM7_EXTENSION for ch in text)
    assert encoded_length(text) == septets
    segments = segment_count(text)
    if septets <= 160:
        assert segments == 1
    else:
        # Never fewer than the septets need; at most one more, as an ESC pair is never split.
        assert -(-septets // 153) <= segments <= -(-septets // 152)


@given(st.text(min_size=1).filter(lambda text: encoding_for(text) == "UCS-2"))
def test_ucs2_segments_count_utf16_units(text):
    units = len(text.encode("utf-16-le")) // 2
    assert encoded_length(text) == units
    segments = segment_count(text)
    if units <= 70:
        assert segments == 1
    else:
        assert -(-units // 67) <= segments <= -(-units // 66)


def test_a_text_that_fits_is_one_unnumbered_part():
    text = "word " * 319 + "last"  # 1,599 characters
    assert split_body(text) == [text.strip()]
    assert split_body("x" * MAX_BODY_CHARS) == ["x" * MAX_BODY_CHARS]


def test_a_long_text_is_split_into_numbered_parts_at_sentence_ends():
    sentence = "This sentence is exactly fifty characters long ok. "
    parts = split_body(sentence * 40)  # 2,040 characters
    assert len(parts) == 2
    assert parts[0].startswith("(1/2) ") and parts[1].startswith("(2/2) ")
    assert all(len(part) <= MAX_BODY_CHARS for part in parts)
    assert all(part.endswith("ok.") for part in parts)


def test_a_single_overlong_word_is_cut_hard():
    parts = split_body("x" * 3500)
    budget = MAX_BODY_CHARS - len("(9/9) ")
    assert [len(part) for part in parts] == [1600, 1600, len("(3/3) ") + 3500 - 2 * budget]
    assert "".join(_without_prefixes(parts)) == "x" * 3500


def test_part_numbers_widen_when_there_are_ten_or_more_parts():
    parts = split_body("word " * 3000, limit=100)
    assert len(parts) >= 10
    assert parts[9].startswith(f"(10/{len(parts)}) ")
    assert all(len(part) <= 100 for part in parts)


@given(prose(), st.integers(min_value=30, max_value=400))
def test_split_parts_fit_and_rejoin_to_the_same_words(text, limit):
    parts = split_body(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert " ".join(_without_prefixes(parts)).split() == text.split()
    if len(parts) > 1:
        numbers = [PREFIX.match(part).groups() for part in parts]
        assert numbers == [(str(n), str(len(parts))) for n in range(1, len(parts) + 1)]


@given(st.text(), st.integers(min_value=12, max_value=200))
def test_splitting_any_text_keeps_every_visible_character_in_order(text, limit):
    parts = split_body(text, limit)
    assert all(len(part) <= limit for part in parts)
    assert "".join("".join(_without_prefixes(parts)).split()) == "".join(text.split())
