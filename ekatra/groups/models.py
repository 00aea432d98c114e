"""Groups (cohorts of learners) and their students."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ekatra.extensions import UTCDateTime, db

NAME_MAX_CHARS = 200
DESCRIPTION_MAX_CHARS = 2000
PHONE_MAX_CHARS = 20
TIMEZONE_MAX_CHARS = 64
COUNTRY_CODE_MAX_CHARS = 8
CHANNEL_MAX_CHARS = 16


class Group(db.Model):
    """A cohort an author delivers courses to.

    Owned by one author (only they and admins see it). `default_timezone` and
    `default_channel` fill a student's timezone and channel when a request or file leaves
    them out; changing a default later does not change students already in the group.
    Deleting a group deletes its students.
    """

    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint("default_channel IN ('sms', 'whatsapp')", name="default_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_CHARS))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX_CHARS), default="")
    default_timezone: Mapped[str] = mapped_column(String(TIMEZONE_MAX_CHARS), default="UTC")
    default_channel: Mapped[str] = mapped_column(String(CHANNEL_MAX_CHARS), default="sms")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    students: Mapped[list[Student]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Student.id",
    )


class Student(db.Model):
    """A learner in one group, reached at `phone` (E.164) on `channel` (`sms` or `whatsapp`).

    - `phone` is unique within a group (the same person may be in several groups).
    - `timezone` is an IANA name as the tz database spells it; deliveries send at the same
      local wall-clock time in it.
    - `country_code` is the calling code of `phone` ("+91").
    - `is_subscribed` is the author's switch: false means deliveries leave this student out.
      A learner's own STOP is not kept here but in `opt_outs`, for every group at once.
    - `livemode` false: a test partner's learner (enrolled with a test key). Its messages go to
      the test provider (the sandbox), its replies and opt-outs are the test ones; a group holds
      students of one mode only.
    """

    __tablename__ = "students"
    __table_args__ = (
        UniqueConstraint("group_id", "phone"),
        CheckConstraint("channel IN ('sms', 'whatsapp')", name="channel"),
        # The planner works a group's students one timezone at a time.
        Index("ix_students_group_timezone", "group_id", "timezone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_CHARS))
    phone: Mapped[str] = mapped_column(String(PHONE_MAX_CHARS))
    channel: Mapped[str] = mapped_column(String(CHANNEL_MAX_CHARS))
    timezone: Mapped[str] = mapped_column(String(TIMEZONE_MAX_CHARS))
    country_code: Mapped[str | None] = mapped_column(String(COUNTRY_CODE_MAX_CHARS))
    is_subscribed: Mapped[bool] = mapped_column(default=True)
    livemode: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    group: Mapped[Group] = relationship(back_populates="students")

    # Not a column: services that show students set it from `opt_outs` (outbox.optouts).
    opted_out = False

