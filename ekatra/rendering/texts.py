"""What a learner reads: a day's text as message bodies, and a question with its options.

Pure functions of plain values, used by the course preview and by the delivery engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from ekatra.rendering.segments import split_body


def option_letter(index: int) -> str:
    """The letter a learner replies with for the option at `index` (0 → "A")."""
    return chr(ord("A") + index)


def _either(words: Sequence[str]) -> str:
    """"A", "A or B", "A, B or C"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"


def render_content(text: str) -> list[str]:
    """A day's text as message bodies: one, or several numbered parts when it is long."""
    return split_body(text)


def render_question(number: int, text: str, type: str, options: Sequence[str] = ()) -> str:
    """A question as one message: "Q1. …", then for a choice its options and how to reply."""
    lines = [f"Q{number}. {text.strip()}"]
    if type == "choice":
        letters = [option_letter(index) for index in range(len(options))]
        lines += [f"{letter}) {option}" for letter, option in zip(letters, options, strict=True)]
        lines.append(f"Reply with {_either(letters)}.")
    elif type == "boolean":
        lines.append("Reply YES or NO.")
    return "\n".join(lines)


DEFAULT_CORRECT = "Correct!"
DEFAULT_THANKS = "Thank you for your answer."


def render_feedback(is_correct: bool | None, type: str, correct_answer: str | None,
                    options: Sequence[str] = (), feedback_correct: str | None = None,
                    feedback_incorrect: str | None = None) -> str:
    """The reply to an answer: the question's own feedback text, or "Correct!" / "The answer is …"
    (an `open` question, which is not graded, gets its `feedback_correct` or a thank-you)."""
    if is_correct is None:
        return feedback_correct or DEFAULT_THANKS
    if is_correct:
        return feedback_correct or DEFAULT_CORRECT
    if feedback_incorrect:
        return feedback_incorrect
    answer = correct_answer or ""
    if type == "choice" and answer in options:
        answer = f"{option_letter(list(options).index(answer))}) {answer}"
    elif type == "boolean":
        answer = answer.upper()
    return f"The answer is {answer}."
