"""Question types and the rules that keep a question's type, options and answer consistent.

| type | correct answer | options |
|---|---|---|
| `text` (input also `Q/A`, `qa`, `Q&A`) | required | none |
| `choice` | required: an option, its letter (A…) or number (1…), stored as the option | 2–10 |
| `boolean` | required: yes/no/true/false/y/n; stored as `yes` or `no` | none |
| `open` | none: stored ungraded (a given answer is dropped) | none |
"""

from __future__ import annotations

from collections.abc import Sequence

from ekatra.rendering.segments import MAX_BODY_CHARS
from ekatra.rendering.texts import option_letter, render_question

QUESTION_TYPES = ("text", "choice", "boolean", "open")
TYPE_ALIASES = {"q/a": "text", "qa": "text", "q&a": "text"}
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_QUESTIONS_PER_DAY = 50
BOOLEAN_ANSWERS = {"yes": "yes", "y": "yes", "true": "yes", "no": "no", "n": "no", "false": "no"}

# The API's field names, used as keys of the errors a client sees.
TYPE, OPTIONS, ANSWER, QUESTION = "type", "options", "correct-answer", "question"


class QuestionProblem(ValueError):
    """The question's fields do not fit together; `errors` maps API field names to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(m)}" for field, m in errors.items()))
        self.errors = errors


def canonical_type(raw: str | None) -> str | None:
    """The stored type for what a client sent (None → "text"); None when it is unknown."""
    if raw is None:
        return "text"
    name = raw.strip().casefold()
    name = TYPE_ALIASES.get(name, name)
    return name if name in QUESTION_TYPES else None


def _choice_answer(answer: str, options: Sequence[str]) -> str | None:
    """The option an answer names, by its text, its letter or its number."""
    wanted = answer.strip().casefold()
    for option in options:
        if option.strip().casefold() == wanted:
            return option
    for index, option in enumerate(options):
        if wanted in (option_letter(index).casefold(), str(index + 1)):
            return option
    return None


def settle_question(*, text: str, type: str | None, options: Sequence[str] | None,
                    correct_answer: str | None, accepted_answers: Sequence[str] | None) -> dict:
    """The stored `type`, `options`, `correct_answer` and `accepted_answers` of a question,
    or QuestionProblem naming the fields that do not fit together."""
    kind = canonical_type(type)
    if kind is None:
        raise QuestionProblem({TYPE: [
            "Must be one of: text (also Q/A), choice, boolean, open."]})
    options = list(options or [])
    answer = correct_answer.strip() if correct_answer else None
    if kind != "choice" and options:
        raise QuestionProblem({OPTIONS: [
            "Only choice questions have options; set type to choice."]})
    if kind == "open":
        return {"type": kind, "options": [], "correct_answer": None, "accepted_answers": []}
    if not answer:
        raise QuestionProblem({ANSWER: [f"A {kind} question needs a correct answer."]})
    if kind == "boolean":
        if answer.casefold() not in BOOLEAN_ANSWERS:
            raise QuestionProblem({ANSWER: ["Must be yes or no (or true or false)."]})
        answer = BOOLEAN_ANSWERS[answer.casefold()]
    elif kind == "choice":
        answer = _settle_choice(text, options, answer)
    return {"type": kind, "options": options, "correct_answer": answer,
            "accepted_answers": list(accepted_answers or [])}


def _settle_choice(text: str, options: list[str], answer: str) -> str:
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise QuestionProblem({OPTIONS: [
            f"A choice question needs {MIN_OPTIONS} to {MAX_OPTIONS} options."]})
    folded = [option.strip().casefold() for option in options]
    if len(set(folded)) != len(folded):
        raise QuestionProblem({OPTIONS: ["Options must differ from each other."]})
    chosen = _choice_answer(answer, options)
    if chosen is None:
        raise QuestionProblem({ANSWER: [
            "Must be one of the options, its letter (A, B, …) or its number (1, 2, …)."]})
    rendered = render_question(MAX_QUESTIONS_PER_DAY, text, "choice", options)
    if len(rendered) > MAX_BODY_CHARS:
        raise QuestionProblem({QUESTION: [
            f"With its options this question is {len(rendered)} characters; "
            f"one message holds {MAX_BODY_CHARS}."]})
    return chosen
