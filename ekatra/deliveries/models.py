"""Deliveries (a course sent to a group on a schedule) and enrollments (per-learner progress)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ekatra.extensions import UTCDateTime, db

SCHEDULED, PAUSED, STOPPED, COMPLETED = "scheduled", "paused", "stopped", "completed"
ACTIVE, SUSPENDED, FINISHED, REMOVED = "active", "suspended", "finished", "removed"
PAUSED_SILENT = "paused_silent"
LIVE_ENROLLMENTS = (ACTIVE, SUSPENDED, PAUSED_SILENT)  # not finished or removed: the delivery goes on
PLANNING_ERROR_MAX_CHARS = 500


class Delivery(db.Model):
    """A course sent to a group: each learner gets day 1, 2, … at the same local time.

    Schedule: `local_start_date` + `local_send_time` (a wall-clock time applied in each
    learner's own timezone), or `start_at` (one instant for everyone); `cadence` is `daily`,
    `weekdays` or `minutes` (every `interval_minutes`).

    Status (lowercase here; the API shows the contract's uppercase):
    - `scheduled`: the planner advances enrollments as their days fall due.
    - `paused`: nothing is planned and unsent messages are held; RESUME returns to `scheduled`.
    - `stopped`: final. Unsent messages were cancelled; nothing moves it again.
    - `completed`: every enrollment is finished or removed; set by the planner.

    `planning_error` / `planning_failed_at`: why and when the planner's last attempt at this
    delivery failed (its work was undone; the other deliveries went on). The planner tries
    again each tick and clears both once planning succeeds.

    Reminders (`ekatra.deliveries.reminders`): `reminder_after_minutes`, up to five increasing
    delays after an unanswered question was sent ([] : none); `reminder_quiet_hours`,
    "HH:MM-HH:MM" in each learner's own timezone (None: none); `pause_after_silent_days`, the
    due days a learner may stay silent before they are paused (0: never).
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    local_start_date: Mapped[date | None]
    local_send_time: Mapped[time | None]
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cadence: Mapped[str] = mapped_column(String(16), default="daily")
    interval_minutes: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED, index=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planning_error: Mapped[str | None] = mapped_column(String(PLANNING_ERROR_MAX_CHARS))
    planning_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_after_minutes: Mapped[list[int]] = mapped_column(JSON, default=lambda: [120])
    # No Python default: an explicit None (no quiet hours) must stay None; create_delivery sets it.
    reminder_quiet_hours: Mapped[str | None] = mapped_column(String(11))
    pause_after_silent_days: Mapped[int] = mapped_column(default=3)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="delivery", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Enrollment.id")


class Enrollment(db.Model):
    """One learner in one delivery: the progress pointer the planner advances.

    `next_day` is the next day to plan and `next_due_at` (UTC) when it falls due.
    - `active`: planned as days fall due.
    - `suspended`: the phone opted out; resumes at the next unsent day after START.
    - `paused_silent`: the learner wrote nothing for the delivery's `pause_after_silent_days`
      due days; the planner paused them at the next due day (`next_day` stays that day, sent a
      "reply RESUME" notice instead, `next_due_at` is None). The learner's next message (any)
      or an author's RESUME makes them `active`, due at once (`deliveries.reminders`).
    - `finished`: every day has been planned. Never planned again.
    - `removed`: the student left the group; unsent messages were cancelled. Final.
    """

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("delivery_id", "student_id"),
        # Half-empty pages: the planner's daily UPDATE of 100,000 pointers can stay on the page
        # (a HOT update on PostgreSQL, no new index entries), as no column it sets is indexed.
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    # SET NULL keeps the history of a student deleted with their group.
    student_id: Mapped[int | None] = mapped_column(
        ForeignKey("students.id", ondelete="SET NULL"), index=True)
    next_day: Mapped[int] = mapped_column(default=1)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last out of `paused_silent`
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    delivery: Mapped[Delivery] = relationship(back_populates="enrollments")
