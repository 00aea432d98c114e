"""Request and response shapes of /api/course (the contract's field names)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from ekatra.courses.question_types import (
    MAX_OPTIONS,
    MAX_QUESTIONS_PER_DAY,
    QuestionProblem,
    settle_question,
)
from ekatra.rendering.reminders import MAX_LEAD_IN_CHARS
from ekatra.schemas import BaseSchema, MessageSchema

MAX_DAYS = 1000
MAX_DAY_CHARS = 20_000
MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS = 1000
MAX_OPTION_CHARS = 200
MAX_ACCEPTED_ANSWERS = 20
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"  # BCP 47, e.g. en, hi, pt-BR


class Text(fields.String):
    """A string without NUL characters (PostgreSQL cannot store them, and no phone shows them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in value:
            raise ValidationError("Must not contain NUL characters.")
        return value


class Trimmed(Text):
    """A Text with surrounding whitespace removed before it is validated."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _answer_aliases(data):
    """The contract documents both `correct-answer` and `correct_answer`; read either."""
    if isinstance(data, dict) and "correct_answer" in data:
        data = dict(data)
        value = data.pop("correct_answer")
        data.setdefault("correct-answer", value)
    return data


def _short_list(maximum: int, item_chars: int, example: list[str]):
    return fields.List(Trimmed(validate=validate.Length(min=1, max=item_chars)),
                       allow_none=True, validate=validate.Length(max=maximum),
                       metadata={"example": example})


def _question(**extra):
    return Trimmed(attribute="text", validate=validate.Length(min=1, max=MAX_QUESTION_CHARS),
                   metadata={"example": "What is 2+2?"}, **extra)


class QuestionFields(BaseSchema):
    """A question as clients write it; every field optional (used as is for partial updates)."""

    question = _question()
    type = Text(allow_none=True, validate=validate.Length(max=20),
                metadata={"description": "text (also Q/A), choice, boolean or open",
                          "example": "Q/A"})
    correct_answer = Trimmed(data_key="correct-answer", allow_none=True,
                             validate=validate.Length(max=MAX_ANSWER_CHARS),
                             metadata={"description": "Also read as `correct_answer`. For a "
                                       "choice: the option, its letter or its number.",
                                       "example": "4"})
    accepted_answers = _short_list(MAX_ACCEPTED_ANSWERS, MAX_ANSWER_CHARS, ["four"])
    options = _short_list(MAX_OPTIONS, MAX_OPTION_CHARS, [])
    feedback_correct = Trimmed(allow_none=True, validate=validate.Length(max=MAX_ANSWER_CHARS))
    feedback_incorrect = Trimmed(allow_none=True, validate=validate.Length(max=MAX_ANSWER_CHARS))

    @pre_load
    def read_both_answer_spellings(self, data, **_kwargs):
        return _answer_aliases(data)


class QuestionSchema(QuestionFields):
    """A whole question: its text is required and its type, options and answer must agree."""

    id = fields.Integer(dump_only=True)
    question = _question(required=True)

    def _settled(self, data) -> dict:
        return settle_question(text=data["text"], type=data.get("type"),
                               options=data.get("options"),
                               correct_answer=data.get("correct_answer"),
                               accepted_answers=data.get("accepted_answers"))

    @validates_schema
    def types_options_and_answer_agree(self, data, **_kwargs):
        try:
            self._settled(data)
        except QuestionProblem as problem:
            raise ValidationError(problem.errors) from None

    @post_load
    def settle(self, data, **_kwargs):
        return {"feedback_correct": None, "feedback_incorrect": None, **data,
                **self._settled(data)}


class QuestionUpdateSchema(QuestionFields):
    """Only the fields given change; the result must still agree (checked by the service)."""


class DayQuestionSchema(QuestionSchema):
    """A question in a day's new question list: with the `id` of one of the day's questions to
    change it in place, without to add it."""

    id = fields.Integer(load_default=None, allow_none=True, strict=True,
                        metadata={"description": "Keep this question (omit for a new one)"})


class DaySchema(BaseSchema):
    day = fields.Integer(attribute="number", dump_only=True,
                         metadata={"description": "The day number (read-only: days are numbered "
                                   "in order)"})
    text = Text(required=True, validate=validate.Length(max=MAX_DAY_CHARS),
                metadata={"example": "Python is a programming language."})
    questions = fields.List(fields.Nested(QuestionSchema), allow_none=True, load_default=list,
                            validate=validate.Length(max=MAX_QUESTIONS_PER_DAY))

    @post_load
    def no_questions_is_an_empty_list(self, data, **_kwargs):
        return {**data, "questions": data.get("questions") or []}


class DayUpdateSchema(BaseSchema):
    text = Text(validate=validate.Length(max=MAX_DAY_CHARS))
    questions = fields.List(fields.Nested(DayQuestionSchema), allow_none=True,
                            validate=validate.Length(max=MAX_QUESTIONS_PER_DAY),
                            metadata={"description": "When given, becomes the day's questions "
                                      "(null: none)"})


def _name(**extra):
    return Trimmed(validate=validate.Length(min=1, max=200), metadata={"example": "Python"},
                   **extra)


def _author(**extra):
    return Trimmed(validate=validate.Length(max=200),
                   metadata={"description": "The author's name shown to learners",
                             "example": "Ekatra"}, **extra)


def _description(**extra):
    return Text(validate=validate.Length(max=5000), metadata={"example": "Ten minutes a day"},
                **extra)


def _language(**extra):
    return Text(validate=[validate.Length(max=35), validate.Regexp(LANGUAGE_TAG)],
                metadata={"description": "BCP 47 tag", "example": "en"}, **extra)


_CONTENT_SID = validate.Regexp(r"^HX[0-9a-fA-F]{32}$", error="A Twilio content sid: HX and 32 hex digits.")


class CourseFields(BaseSchema):
    name = _name()
    author = _author()
    description = _description()
    language = _language()
    whatsapp_opener_content_sid = fields.String(allow_none=True, validate=_CONTENT_SID, metadata={
        "description": "This course's own approved WhatsApp opener template (variables: 1 learner's "
                       "name, 2 course name, 3 day number); default: WHATSAPP_OPENER_CONTENT_SID.",
        "example": "HX0123456789abcdef0123456789abcdef"})
    whatsapp_quick_replies = fields.Dict(
        keys=fields.String(validate=validate.OneOf(("boolean", "choice2", "choice3"))),
        values=fields.String(validate=_CONTENT_SID), allow_none=True, metadata={
            "description": "This course's quick-reply templates for WhatsApp questions, by kind: "
                           "`boolean` (Yes/No), `choice2`, `choice3` (one button per option).",
            "example": {"boolean": "HX0123456789abcdef0123456789abcdef"}})
    reminder_lead_in = Trimmed(allow_none=True, validate=validate.Length(max=MAX_LEAD_IN_CHARS), metadata={
        "description": "What a reminder says before it repeats the unanswered question; default (null): "
                       "a short line in the course's language (English, Hindi).",
        "example": "Just checking in: we would love your answer."})
    days = fields.List(fields.Nested(DaySchema), allow_none=True,
                       validate=validate.Length(max=MAX_DAYS))


class CourseSchema(CourseFields):
    id = fields.Integer(dump_only=True)
    name = _name(required=True)
    author = _author(load_default="")
    description = _description(load_default="")
    language = _language(load_default="en")

    @post_load
    def no_days_is_an_empty_list(self, data, **_kwargs):
        return {**data, "days": data.get("days") or []}


class CourseUpdateSchema(CourseFields):
    """Only the fields given change; `days` are appended after the last day."""


class CourseCreatedSchema(MessageSchema):
    id = fields.Integer(metadata={"example": 1})


class DayCreatedSchema(MessageSchema):
    day = fields.Integer(metadata={"example": 3})


class PreviewMessageSchema(BaseSchema):
    part = fields.String(metadata={"description": "content or question"})
    question_id = fields.Integer(allow_none=True)
    text = fields.String()
    characters = fields.Integer()
    segments = fields.Integer(metadata={"description": "SMS segments the message is billed as"})
    encoding = fields.String(metadata={"description": "GSM-7 or UCS-2"})


class PreviewDaySchema(BaseSchema):
    day = fields.Integer()
    messages = fields.List(fields.Nested(PreviewMessageSchema))


class CoursePreviewSchema(BaseSchema):
    course_id = fields.Integer()
    name = fields.String()
    days = fields.List(fields.Nested(PreviewDaySchema))
