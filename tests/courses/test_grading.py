"""Grading: normalisation folds what a learner's phone or habits add, never what they meant."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ekatra.courses.grading import boolean_forms, grade, normalise

OPTIONS = ["Paris", "London", "New Delhi"]


def choice(reply: str, correct: str = "New Delhi") -> bool | None:
    return grade(type="choice", reply=reply, correct_answer=correct, options=OPTIONS)


def boolean(reply: str, correct: str = "yes", **kwargs) -> bool | None:
    return grade(type="boolean", reply=reply, correct_answer=correct, **kwargs)


def text(reply: str, correct: str = "Photosynthesis", accepted=()) -> bool | None:
    return grade(type="text", reply=reply, correct_answer=correct, accepted_answers=accepted)


@pytest.mark.parametrize(("raw", "folded"), [
    ("  Café,  s'il vous plaît! ", "cafe s il vous plait"),
    ("ÉCOLE", "ecole"),
    ("हाँ", "हाँ"),  # the candrabindu stays: it is part of the word
    ("नहीं।", "नहीं"),  # the danda is punctuation; the anusvara and vowel sign stay
    ("किताब\u200d", "किताब"),  # a zero-width joiner goes
    ("१२", "12"),
    ("New\tDelhi\n", "new delhi"),
])
def test_normalise_folds_case_accents_punctuation_and_spacing(raw, folded):
    assert normalise(raw) == folded


def test_devanagari_vowel_signs_are_not_stripped():
    assert normalise("कि") != normalise("क")
    assert normalise("हाँ") != normalise("हा")


@pytest.mark.parametrize("reply", ["C", "c", "c)", "(c)", "C.", "3", "3.", " new delhi ", "NEW DELHI!",
                                   "c New Delhi", "३"])
def test_choice_accepts_letter_number_or_text(reply):
    assert choice(reply) is True


@pytest.mark.parametrize("reply", ["A", "1", "paris", "d", "4", "", "delhi"])
def test_choice_refuses_other_options_and_nonsense(reply):
    assert choice(reply) is False


def test_choice_whose_options_are_numbers_matches_the_text_first():
    options = ["2", "4"]
    assert grade(type="choice", reply="4", correct_answer="4", options=options) is True
    assert grade(type="choice", reply="B", correct_answer="4", options=options) is True
    assert grade(type="choice", reply="2", correct_answer="4", options=options) is False


@pytest.mark.parametrize("reply", ["yes", "YES", " Yes. ", "y", "true", "True!", "हाँ", "हां", "हा", "जी",
                                   "जी हाँ", "han", "Haan"])
def test_boolean_yes_in_english_and_hindi(reply):
    assert boolean(reply, "yes") is True
    assert boolean(reply, "no") is False


@pytest.mark.parametrize("reply", ["no", "NO", "n", "false", "नहीं", "नही", "ना", "nahi", "Nahin!"])
def test_boolean_no_in_english_and_hindi(reply):
    assert boolean(reply, "no") is True
    assert boolean(reply, "yes") is False


def test_boolean_local_forms_are_configurable():
    forms = boolean_forms(yes_words=["oui"], no_words=["non"])
    assert boolean("Oui", forms=forms) is True
    assert boolean("हाँ", forms=forms) is False
    assert boolean("yes", forms=forms) is True


def test_boolean_nonsense_is_wrong():
    assert boolean("maybe") is False


@pytest.mark.parametrize("reply", ["photosynthesis", "  PHOTOSYNTHESIS. ", "Photo-synthesis" ])
def test_text_matches_after_normalisation(reply):
    expected = reply.strip() != "Photo-synthesis"
    assert text(reply) is expected


def test_text_accepts_any_accepted_answer():
    assert text("prakash sanshleshan", accepted=["Prakash-sanshleshan", "प्रकाश संश्लेषण"]) is True
    assert text("प्रकाश संश्लेषण।", accepted=["प्रकाश संश्लेषण"]) is True
    assert text("respiration", accepted=["prakash sanshleshan"]) is False


def test_text_with_accents_and_spacing():
    assert grade(type="text", reply="  creme   brulee ", correct_answer="Crème brûlée") is True


def test_open_questions_are_not_graded():
    assert grade(type="open", reply="anything at all", correct_answer=None) is None


@given(st.text())
def test_normalise_is_idempotent(raw):
    once = normalise(raw)
    assert normalise(once) == once


PADDING = st.text(alphabet=" \t\n.,!?;:'\"()-", max_size=6)
ANSWERS = st.sampled_from(["Paris", "London", "New Delhi", "yes", "no", "हाँ", "नहीं", "b", "2",
                           "Photosynthesis", "Crème brûlée", "प्रकाश संश्लेषण"])


@given(ANSWERS, PADDING, PADDING, st.sampled_from([str.upper, str.lower, str.title, str]))
def test_padding_case_and_punctuation_never_change_a_grade(reply, before, after, case):
    changed = before + case(reply) + after
    for question in ({"type": "choice", "correct_answer": "New Delhi", "options": OPTIONS},
                     {"type": "boolean", "correct_answer": "yes"},
                     {"type": "text", "correct_answer": "Photosynthesis",
                      "accepted_answers": ["Crème brûlée"]}):
        assert grade(reply=changed, **question) == grade(reply=reply, **question)
