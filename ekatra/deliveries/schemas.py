"""Request and response shapes of the delivery routes (the contract's field names)."""

from __future__ import annotations

import json

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from ekatra.deliveries import reminders
from ekatra.schemas import BaseSchema, MessageSchema

CADENCES = ("daily", "weekdays", "minutes")
ACTIONS = ("PAUSE", "RESUME", "STOP")
MESSAGE_STATUSES = ("waiting", "pending", "held", "sending", "sent", "delivered", "read", "undelivered",
                    "failed", "cancelled", "skipped")


def _checked(problem_of):
    def check(value):
        problem = problem_of(value)
        if problem:
            raise ValidationError(problem)
    return check


class ReminderSettingsSchema(BaseSchema):
    """A delivery's reminders; on PUT only the fields given change."""

    after_minutes = fields.List(
        fields.Integer(strict=True), validate=_checked(reminders.after_minutes_problem), metadata={
            "description": "Up to five increasing delays in minutes, each counted from when the unanswered "
                           "question was sent (default [120]; [] turns reminders off).",
            "example": [120, 1440]})
    quiet_hours = fields.String(allow_none=True, validate=_checked(reminders.quiet_hours_problem), metadata={
        "description": "HH:MM-HH:MM in each learner's own timezone, may wrap midnight (default "
                       "21:00-08:00; null: none). A reminder due inside them waits for their end.",
        "example": "21:00-08:00"})
    pause_after_silent_days = fields.Integer(
        strict=True, validate=validate.Range(min=0, max=reminders.MAX_SILENT_DAYS), metadata={
            "description": "A learner who wrote nothing for this many consecutive due days is paused at the "
                           "next one, with a notice (reply RESUME); 0: never (default 3).",
            "example": 3})


class DeliveryCreateSchema(BaseSchema):
    schedule_at = fields.String(
        required=True, validate=validate.Length(min=10, max=40),
        metadata={"example": "2026-12-01 09:00:00", "description": (
            "`YYYY-MM-DD HH:MM:SS` with no offset: that wall-clock time in each student's own "
            "timezone. With an offset (`2026-12-01T09:00:00+05:30`) or a `timezone` field: "
            "one instant for everyone. A date from 2000-01-01 to five years from today.")})
    timezone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64),
                             metadata={"example": "Asia/Kolkata"})
    cadence = fields.String(load_default="daily", validate=validate.OneOf(CADENCES),
                            metadata={"example": "daily"})
    interval = fields.Integer(load_default=None, allow_none=True, strict=True,
                              validate=validate.Range(min=1, max=1440),
                              metadata={"description": "Minutes between days, with cadence `minutes`.",
                                        "example": 60})
    reminders = fields.Nested(ReminderSettingsSchema, load_default=None, metadata={
        "description": "Reminders for unanswered questions and pauses of silent learners (defaults: "
                       "after 120 minutes, quiet 21:00-08:00, pause after 3 silent days)."})


class DeliveryCreatedSchema(MessageSchema):
    id = fields.Integer(metadata={"example": 1})
    reminders = fields.Nested(ReminderSettingsSchema)


class DeliveryActionSchema(BaseSchema):
    action = fields.String(load_default=None, validate=validate.OneOf(ACTIONS),
                           metadata={"example": "PAUSE"})
    reminders = fields.Nested(ReminderSettingsSchema, load_default=None, metadata={
        "description": "New reminder settings (the fields given), with or without an action."})

    @validates_schema
    def action_or_reminders(self, data, **kwargs):
        if data.get("action") is None and data.get("reminders") is None:
            raise ValidationError("Give an action (PAUSE, RESUME, STOP) or reminders.", "action")

    @pre_load
    def read_status_key(self, data, **kwargs):
        """Clients of the original backend send `{"status": "PAUSE"}`; read either key."""
        if isinstance(data, dict):
            data = dict(data)
            if "action" not in data and "status" in data:
                data["action"] = data.pop("status")
            if isinstance(data.get("action"), str):
                data["action"] = data["action"].strip().upper()
        return data


class DeliveryActionResultSchema(MessageSchema):
    status = fields.String(metadata={"example": "PAUSED"})
    reminders = fields.Nested(ReminderSettingsSchema)


class LearnerResumedSchema(MessageSchema):
    student_id = fields.Integer()
    state = fields.String(metadata={"example": "active"})
    next_due_at = fields.DateTime(allow_none=True)


class CountsSchema(BaseSchema):
    students = fields.Integer()
    messages = fields.Dict(keys=fields.String(), values=fields.Integer(),
                           metadata={"example": {"pending": 3, "sent": 12, "delivered": 40}})


class DeliveryListItemSchema(BaseSchema):
    id = fields.Integer(metadata={"example": 1})
    group_id = fields.Integer(metadata={"example": 3})
    group_name = fields.String(metadata={"example": "group3"})
    course_id = fields.Integer(metadata={"example": 1})
    course_name = fields.String(metadata={"example": "Python"})
    course_key = fields.String(dump_only=True, metadata={
        "description": "The delivery's Open edX-style course key: the `course_id` partners send to "
                       "/appsembler_api/v0 (only a partner the delivery is shared with may use it).",
        "example": "course-v1:A1+C1+D1"})
    day_id = fields.Integer(metadata={"description": "The furthest day sent to any student so far.",
                                      "example": 2})
    added_by = fields.Integer(metadata={"example": 1})
    status = fields.String(metadata={"example": "SCHEDULED"})
    scheduled_time = fields.String(metadata={"example": "2020-11-01 16:40:00"})
    timezone = fields.String(allow_none=True, metadata={
        "description": "Set when the schedule is one instant (then scheduled_time is in UTC)."})
    cadence = fields.String(metadata={"example": "daily"})
    interval = fields.Integer(allow_none=True)
    counts = fields.Nested(CountsSchema)
    planning_error = fields.String(allow_none=True, metadata={
        "description": "Why the planner's last attempt at this delivery failed (its work was "
                       "undone and is tried again each tick); null once planning succeeds.",
        "example": None})
    planning_failed_at = fields.DateTime(allow_none=True)


class StudentProgressSchema(BaseSchema):
    student_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    number = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    timezone = fields.String(allow_none=True)
    enrollment_status = fields.String(metadata={"example": "active"})
    current_day = fields.Integer(metadata={"description": "The last day planned (0: none yet)."})
    next_day = fields.Integer(allow_none=True)
    next_due_at = fields.DateTime(allow_none=True)
    messages = fields.Dict(keys=fields.String(), values=fields.Integer())
    answers = fields.Integer()
    whatsapp_window_open = fields.Boolean(allow_none=True, metadata={
        "description": "WhatsApp learners: whether free-form messages reach them now (null on SMS)."})
    whatsapp_window_open_until = fields.DateTime(allow_none=True, metadata={
        "description": "WhatsApp learners: until when their 24-hour window is open (null: never wrote)."})
    reminders_sent = fields.Integer(metadata={"description": "Reminders the provider accepted."})
    livemode = fields.Boolean(metadata={
        "description": "false: a test partner's learner; its messages go to the sandbox, never a phone."})


class DeliveryDetailSchema(DeliveryListItemSchema):
    reminders = fields.Method("_reminders", metadata={"description": "The delivery's reminder settings."})

    created_at = fields.DateTime()
    paused_at = fields.DateTime(allow_none=True)
    stopped_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    days = fields.Integer(metadata={"description": "Days in the course."})
    students = fields.List(fields.Nested(StudentProgressSchema), attribute="progress")

    def _reminders(self, view):
        return reminders.settings_of(view.delivery)


class ScheduledDaySchema(BaseSchema):
    day = fields.Integer(metadata={"example": 1})
    local = fields.String(metadata={"example": "2026-12-01T09:00:00+05:30"})
    utc = fields.String(metadata={"example": "2026-12-01T03:30:00Z"})


class StudentScheduleSchema(BaseSchema):
    student_id = fields.Integer()
    name = fields.String()
    timezone = fields.String()
    days = fields.List(fields.Nested(ScheduledDaySchema))


class DeliveryScheduleSchema(BaseSchema):
    students = fields.List(fields.Nested(StudentScheduleSchema))


class MessagesQueryArgsSchema(BaseSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(MESSAGE_STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class OutboxMessageSchema(BaseSchema):
    id = fields.Integer()
    student_id = fields.Integer(allow_none=True)
    to = fields.String(attribute="to_phone")
    channel = fields.String()
    day = fields.Integer(attribute="day_number", allow_none=True)
    part = fields.String()
    kind = fields.Function(lambda message: message_kind(message.part), metadata={
        "description": "content, question, feedback, reminder, notice (paused for silence), opener "
                       "(WhatsApp template) or help", "example": "reminder"})
    body = fields.String()
    status = fields.String(metadata={
        "description": "waiting (behind an earlier part of the day), pending, held (see hold_reason), "
                       "sending, sent, delivered, read, undelivered, failed, cancelled, skipped",
        "example": "pending"})
    hold_reason = fields.String(allow_none=True, metadata={
        "description": "Why a held message waits (`paused`: its delivery is paused; `window_closed`: "
                       "a WhatsApp learner's 24-hour window is closed, it goes when they write).",
        "example": None})
    content_sid = fields.String(allow_none=True, metadata={
        "description": "A WhatsApp template send (opener, quick reply): Twilio's ContentSid.",
        "example": "HX0123456789abcdef0123456789abcdef"})
    content_variables = fields.Method("_variables", allow_none=True, metadata={
        "description": "The template's ContentVariables.",
        "example": {"1": "Kofi", "2": "Money basics", "3": "1"}})
    attempts = fields.Integer()
    segments = fields.Integer()
    encoding = fields.String()
    error_code = fields.Integer(attribute="provider_error_code", allow_none=True)
    error_message = fields.String(attribute="provider_error_message", allow_none=True)
    provider_sid = fields.String(allow_none=True)
    livemode = fields.Boolean(metadata={
        "description": "false: to a test learner, sent through the test provider (the sandbox)."})
    due_at = fields.DateTime()
    next_attempt_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


    def _variables(self, message):
        return json.loads(message.content_variables) if message.content_variables else None


_KINDS = {"content": "content", "question": "question", "feedback": "feedback", "reminder": "reminder",
          "pause": "notice", "opener": "opener", "help": "help"}


def message_kind(part: str) -> str:
    """What a message is, from its part name (`reminder-12-1` → reminder)."""
    return _KINDS.get(part.split("-", 1)[0], "other")


class MessagesPageSchema(BaseSchema):
    messages = fields.List(fields.Nested(OutboxMessageSchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class ProgressQueryArgsSchema(BaseSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]),
                           metadata={"description": "`csv` answers with a CSV attachment of the learners."})


class LearnerProgressSchema(BaseSchema):
    student_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    number = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    enrollment_status = fields.String(metadata={"example": "active"})
    days_sent = fields.Integer(metadata={"description": "Days whose first part the provider accepted."})
    days_delivered = fields.Integer(metadata={"description": "Days whose first part was delivered."})
    questions_answered = fields.Integer()
    answers_correct = fields.Integer()
    last_reply = fields.String(allow_none=True, metadata={"example": "B"})
    last_reply_at = fields.DateTime(allow_none=True)
    opted_out = fields.Boolean()
    state = fields.String(metadata={
        "description": "opted_out (the phone opted out), else the enrollment's status: active, "
                       "paused_silent (paused for silence until they write), suspended, finished, removed",
        "example": "active"})
    reminders_sent = fields.Integer(metadata={"description": "Reminders the provider accepted."})
    livemode = fields.Boolean(metadata={
        "description": "false: a test partner's learner; its messages go to the sandbox, never a phone."})


class ProgressTotalsSchema(BaseSchema):
    learners = fields.Integer()
    days_sent = fields.Integer()
    days_delivered = fields.Integer()
    questions_answered = fields.Integer()
    answers_correct = fields.Integer()
    opted_out = fields.Integer()
    paused_silent = fields.Integer(metadata={"description": "Learners paused for silence now."})
    reminders = fields.Nested("ReminderEffectSchema")
    completion_percent = fields.Float(metadata={
        "description": "Days sent over days × learners, in percent.", "example": 42.5})


class ReminderEffectSchema(BaseSchema):
    """Whether reminders work: answers before any reminder, and answers after one."""

    reminders_sent = fields.Integer()
    questions_asked = fields.Integer(metadata={"description": "(learner, question) pairs sent."})
    answered_before_reminder = fields.Integer()
    response_rate_before_reminders = fields.Float(allow_none=True, metadata={
        "description": "Answered before any reminder ÷ questions asked, in percent.", "example": 41.0})
    questions_reminded = fields.Integer(metadata={"description": "Asked questions with at least one "
                                                                 "reminder sent."})
    answered_after_reminder = fields.Integer()
    response_rate_after_reminders = fields.Float(allow_none=True, metadata={
        "description": "Answered after a reminder ÷ reminded, in percent.", "example": 35.5})


class DeliveryProgressSchema(BaseSchema):
    delivery_id = fields.Integer()
    course_id = fields.Integer()
    group_id = fields.Integer()
    status = fields.String(metadata={"example": "SCHEDULED"})
    days = fields.Integer(metadata={"description": "Days in the course."})
    totals = fields.Nested(ProgressTotalsSchema)
    learners = fields.List(fields.Nested(LearnerProgressSchema))


class GroupProgressSchema(BaseSchema):
    deliveries = fields.List(fields.Nested(DeliveryProgressSchema))
