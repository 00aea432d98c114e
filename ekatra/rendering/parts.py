"""A learner's day as ordered parts: its text (in numbered parts if long), then its first question."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ekatra.rendering.segments import encoding_for, segment_count
from ekatra.rendering.texts import render_content, render_question


class QuestionLike(Protocol):
    id: int
    position: int
    text: str
    type: str
    options: Sequence[str] | None


class DayLike(Protocol):
    text: str
    questions: Sequence[QuestionLike]


@dataclass(frozen=True)
class Part:
    """One message of a learner's day, the same for every learner of that day."""

    part: str
    sequence: int
    body: str
    question_id: int | None = None

    @property
    def segments(self) -> int:
        return segment_count(self.body)

    @property
    def encoding(self) -> str:
        return encoding_for(self.body)


def question_part(question: QuestionLike, sequence: int) -> Part:
    """A question as a part of a learner's day ("question-<id>"), numbered by its position."""
    return Part(f"question-{question.id}", sequence,
                render_question(question.position, question.text, question.type, question.options or ()),
                question.id)


def day_parts(day: DayLike) -> list[Part]:
    """A day as it goes out: its text (in numbered parts if long), then its first question.

    Later questions follow when the previous one is answered.
    """
    parts = [Part(f"content-{index}", index - 1, body)
             for index, body in enumerate(render_content(day.text), 1)]
    if day.questions:
        parts.append(question_part(day.questions[0], len(parts)))
    return parts
