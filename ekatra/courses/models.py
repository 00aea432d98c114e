"""Courses, their numbered days, and each day's questions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ekatra.extensions import UTCDateTime, db


class Course(db.Model):
    """A course an author owns: days of text, each followed by its questions.

    `author` is the display name shown to learners, not the owning account (`owner_id`).
    Only the owner (or an admin) sees or changes a course. Deleting a course deletes its days
    and their questions. Any change to the course, its days or questions sets `updated_at`.
    """

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(35), default="en")
    # The course's own approved WhatsApp templates (HX…), instead of the deployment's.
    whatsapp_opener_content_sid: Mapped[str | None] = mapped_column(String(34))
    whatsapp_quick_replies: Mapped[dict | None] = mapped_column(JSON)  # {"boolean"|"choice2"|"choice3": sid}
    # What a reminder says before it repeats the open question; None: the course language's default.
    reminder_lead_in: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    days: Mapped[list[Day]] = relationship(
        back_populates="course", order_by="Day.number", cascade="all, delete-orphan",
        lazy="selectin")


class Day(db.Model):
    """One day of a course: its text, sent first, then its questions.

    Numbers are dense, 1..N: a new day takes the next number, and deleting a day renumbers the
    later ones down by one. Unique per course, so two concurrent appends cannot share a number.
    """

    __tablename__ = "days"
    __table_args__ = (UniqueConstraint("course_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)

    course: Mapped[Course] = relationship(back_populates="days")
    questions: Mapped[list[Question]] = relationship(
        back_populates="day", order_by="Question.position", cascade="all, delete-orphan",
        lazy="selectin")


class Question(db.Model):
    """A question of a day, asked in `position` order (1..N, compacted when one is deleted).

    `type` is `text`, `choice`, `boolean` or `open` (ekatra.courses.question_types keeps the
    fields consistent): a `choice` has 2–10 `options` and its `correct_answer` is one of them;
    a `boolean`'s answer is `yes` or `no`; an `open` question has no answer and is not graded.
    `accepted_answers` are alternatives graded as correct. Its id stays stable while the day is
    edited, so answers already given keep pointing at it.
    """

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("days.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(10), default="text")
    correct_answer: Mapped[str | None] = mapped_column(Text)
    accepted_answers: Mapped[list[str]] = mapped_column(JSON, default=list)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    feedback_correct: Mapped[str | None] = mapped_column(Text)
    feedback_incorrect: Mapped[str | None] = mapped_column(Text)

    day: Mapped[Day] = relationship(back_populates="questions")
