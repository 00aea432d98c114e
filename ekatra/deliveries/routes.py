"""Delivery routes: schedule a course for a group, pause/resume/stop, progress and outbox."""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView

from ekatra import clock, spreadsheets
from ekatra.auth.tokens import author_required, current_actor, current_reader
from ekatra.deliveries import progress, reminders, services, views
from ekatra.deliveries.schemas import (
    DeliveryActionResultSchema,
    DeliveryActionSchema,
    DeliveryCreatedSchema,
    DeliveryCreateSchema,
    DeliveryDetailSchema,
    DeliveryListItemSchema,
    DeliveryProgressSchema,
    DeliveryScheduleSchema,
    GroupProgressSchema,
    LearnerResumedSchema,
    MessagesPageSchema,
    MessagesQueryArgsSchema,
    ProgressQueryArgsSchema,
)
from ekatra.http import Blueprint
from ekatra.outbox.whatsapp import sender_address

blp = Blueprint("deliveries", __name__, url_prefix="/api",
                description="Deliveries: a course sent to a group, day by day")


@blp.route("/delivery/group/<int:group_id>/<int:course_id>")
class DeliveryCreate(MethodView):
    @blp.arguments(DeliveryCreateSchema, example={"schedule_at": "2026-12-01 09:00:00"})
    @blp.response(200, DeliveryCreatedSchema)
    @blp.alt_response(400, description="Bad schedule, empty course or empty group")
    @blp.alt_response(404, description="Group or course not found")
    @author_required()
    def post(self, body, group_id, course_id):
        """Schedule a course for a group (day 1 at schedule_at in each student's timezone)"""
        delivery = services.create_delivery(
            current_actor(), group_id, course_id, **body, now=clock.now(),
            whatsapp_opener_content_sid=current_app.config["WHATSAPP_OPENER_CONTENT_SID"])
        return {"message": "success", "id": delivery.id, "reminders": reminders.settings_of(delivery)}


@blp.route("/delivery/<int:delivery_id>")
class DeliveryById(MethodView):
    @blp.response(200, DeliveryDetailSchema)
    @author_required()
    def get(self, delivery_id):
        """A delivery's summary and each student's progress"""
        sender = current_app.config["TWILIO_WHATSAPP_FROM"]
        return views.get_delivery(current_actor(), delivery_id, clock.now(),
                                     sender_address(sender) if sender else None)

    @blp.arguments(DeliveryActionSchema, example={"action": "PAUSE"})
    @blp.response(200, DeliveryActionResultSchema)
    @blp.alt_response(400, description="Invalid reminder settings (the errors name the field)")
    @blp.alt_response(409, description="Not possible in the delivery's state (e.g. RESUME after STOP)")
    @author_required()
    def put(self, body, delivery_id):
        """Pause, resume or stop a delivery, or change its reminders"""
        delivery = services.change_delivery(current_actor(), delivery_id, clock.now(), **body)
        return {"message": "success", "status": delivery.status.upper(),
                "reminders": reminders.settings_of(delivery)}


@blp.route("/delivery/<int:delivery_id>/students/<int:student_id>/resume")
class LearnerResume(MethodView):
    @blp.response(200, LearnerResumedSchema)
    @blp.alt_response(404, description="Delivery or student not found")
    @blp.alt_response(409, description="The learner is not paused for silence")
    @author_required()
    def post(self, delivery_id, student_id):
        """Resume a learner paused for silence: their missed day goes out at once"""
        enrollment = services.resume_learner(current_actor(), delivery_id, student_id, clock.now())
        return {"message": "success", "student_id": enrollment.student_id, "state": enrollment.status,
                "next_due_at": enrollment.next_due_at}


@blp.route("/retrieve-deliveries")
class Deliveries(MethodView):
    @blp.response(200, DeliveryListItemSchema(many=True))
    @author_required(session_in_read=True)
    def get(self):
        """List your deliveries (an empty list when there are none)"""
        return views.list_deliveries(current_reader())


@blp.route("/delivery/<int:delivery_id>/schedule")
class DeliverySchedule(MethodView):
    @blp.response(200, DeliveryScheduleSchema)
    @author_required()
    def get(self, delivery_id):
        """The instant each day goes to each student, local and UTC"""
        return {"students": views.delivery_schedule(current_actor(), delivery_id)}


@blp.route("/delivery/<int:delivery_id>/messages")
class DeliveryMessages(MethodView):
    @blp.arguments(MessagesQueryArgsSchema, location="query")
    @blp.response(200, MessagesPageSchema)
    @author_required()
    def get(self, args, delivery_id):
        """The delivery's outbox: every message with its status, attempts and provider errors"""
        return views.list_messages(current_actor(), delivery_id, **args)


_CSV_RESPONSE = {"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}}


def _csv(rows: list[progress.DeliveryProgress], filename: str) -> Response:
    return Response(progress.as_csv(rows), content_type=spreadsheets.CSV_CONTENT_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/delivery/<int:delivery_id>/progress")
class DeliveryProgress(MethodView):
    @blp.arguments(ProgressQueryArgsSchema, location="query")
    @blp.response(200, DeliveryProgressSchema)
    @blp.doc(responses=_CSV_RESPONSE)
    @author_required()
    def get(self, args, delivery_id):
        """Each learner's days sent and delivered, answers, last reply and opt-out; totals (JSON or CSV)"""
        (found,) = progress.delivery_progress(current_actor(), delivery_id)
        if args["format"] == "csv":
            return _csv([found], f"delivery-{delivery_id}-progress.csv")
        return found


@blp.route("/group/<int:group_id>/progress")
class GroupProgress(MethodView):
    @blp.arguments(ProgressQueryArgsSchema, location="query")
    @blp.response(200, GroupProgressSchema)
    @blp.doc(responses=_CSV_RESPONSE)
    @author_required()
    def get(self, args, group_id):
        """Progress of every delivery to the group (JSON or CSV)"""
        found = progress.group_progress(current_actor(), group_id)
        if args["format"] == "csv":
            return _csv(found, f"group-{group_id}-progress.csv")
        return {"deliveries": found}
