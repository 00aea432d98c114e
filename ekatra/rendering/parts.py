"""A learner's day as ordered parts: its text (in numbered parts if long), then its first question."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
    # On WhatsApp, a quick-reply template instead of the body: (content sid, variables JSON).
    whatsapp_content: tuple[str, str] | None = None

    @property
    def segments(self) -> int:
        return segment_count(self.body)

    @property
    def encoding(self) -> str:
        return encoding_for(self.body)


MAX_QUICK_REPLY_OPTIONS = 3  # WhatsApp quick-reply templates: one button per option, up to three


def quick_reply(question: QuestionLike, quick_replies: Mapping[str, str],
                lead_in: str | None = None) -> tuple[str, str] | None:
    """The quick-reply template for a question, when one is configured: a `boolean` question with
    Yes/No buttons (variables {"1": question}), a `choice` of two or three options with one button
    per option ({"1": question, "2": option A, "3": option B[, "4": option C]}). A reminder puts
    its lead-in before the question, in the same variable."""
    options = list(question.options or ())
    if question.type == "boolean":
        kind = "boolean"
    elif question.type == "choice" and 2 <= len(options) <= MAX_QUICK_REPLY_OPTIONS:
        kind = f"choice{len(options)}"
    else:
        return None
    sid = quick_replies.get(kind)
    if not sid:
        return None
    asked = f"Q{question.position}. {question.text.strip()}"
    values = [f"{lead_in}\n{asked}" if lead_in else asked, *(options if kind != "boolean" else ())]
    return sid, json.dumps({str(n): v for n, v in enumerate(values, 1)}, ensure_ascii=False)


def question_part(question: QuestionLike, sequence: int,
                  quick_replies: Mapping[str, str] | None = None) -> Part:
    """A question as a part of a learner's day ("question-<id>"), numbered by its position; on
    WhatsApp with its quick-reply template when `quick_replies` names one (see `quick_reply`)."""
    return Part(f"question-{question.id}", sequence,
                render_question(question.position, question.text, question.type, question.options or ()),
                question.id, quick_reply(question, quick_replies) if quick_replies else None)


def day_parts(day: DayLike, quick_replies: Mapping[str, str] | None = None) -> list[Part]:
    """A day as it goes out: its text (in numbered parts if long), then its first question.

    Later questions follow when the previous one is answered.
    """
    parts = [Part(f"content-{index}", index - 1, body)
             for index, body in enumerate(render_content(day.text), 1)]
    if day.questions:
        parts.append(question_part(day.questions[0], len(parts), quick_replies))
    return parts
