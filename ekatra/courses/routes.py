"""/api/course: courses, their days and questions, and a preview of the messages."""

from __future__ import annotations

from flask.views import MethodView

from ekatra import clock
from ekatra.auth.tokens import author_required, current_actor, current_reader
from ekatra.courses import days, services
from ekatra.courses.schemas import (
    CourseCreatedSchema,
    CoursePreviewSchema,
    CourseSchema,
    CourseUpdateSchema,
    DayCreatedSchema,
    DaySchema,
    DayUpdateSchema,
    QuestionUpdateSchema,
)
from ekatra.http import Blueprint
from ekatra.schemas import MessageSchema

blp = Blueprint("courses", __name__, url_prefix="/api/course",
                description="Courses, their days and questions")

SUCCESS = {"message": "success"}

EXAMPLE_QUESTION = {"question": "What is print statement?", "type": "Q/A",
                    "correct-answer": "It displays a value."}
EXAMPLE_DAY = {"day": "day num (readonly)", "text": "print hello world",
               "questions": [EXAMPLE_QUESTION]}


@blp.route("/")
class Courses(MethodView):
    @blp.response(200, CourseSchema(many=True))
    @author_required()
    def get(self):
        """List your courses (an empty list when there are none)"""
        return services.list_courses(current_actor())

    @blp.arguments(CourseSchema, example={"name": "Python", "author": "Ekatra",
                                          "description": "Ten minutes a day",
                                          "days": [EXAMPLE_DAY]})
    @blp.response(200, CourseCreatedSchema)
    @author_required()
    def post(self, body):
        """Create a course with its days and questions"""
        course = services.create_course(current_actor(), **body, now=clock.now())
        return {**SUCCESS, "id": course.id}


@blp.route("/<int:id>")
class CourseById(MethodView):
    @blp.response(200, CourseSchema)
    @blp.alt_response(404, description="Course not found!!")
    @author_required(session_in_read=True)
    def get(self, id):
        """Read a course with its days and questions"""
        return services.get_course(current_reader(), id)

    @blp.arguments(CourseUpdateSchema, example={"days": [EXAMPLE_DAY]})
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, description="Course not found!!")
    @author_required()
    def put(self, body, id):
        """Append days to a course and change its name, author, description or language"""
        services.update_course(current_actor(), id, body, now=clock.now())
        return SUCCESS

    @blp.response(200, MessageSchema)
    @blp.alt_response(404, description="Course not found!!")
    @author_required()
    def delete(self, id):
        """Delete a course with its days and questions"""
        services.delete_course(current_actor(), id)
        return SUCCESS


@blp.route("/<int:id>/days")
class CourseDays(MethodView):
    @blp.arguments(DaySchema, example={"text": "Loops repeat work.", "questions": []})
    @blp.response(200, DayCreatedSchema)
    @blp.alt_response(404, description="Course not found!!")
    @author_required()
    def post(self, body, id):
        """Add a day after the last one"""
        day = days.add_day(current_actor(), id, body, now=clock.now())
        return {**SUCCESS, "day": day.number}


@blp.route("/<int:id>/preview")
class CoursePreview(MethodView):
    @blp.response(200, CoursePreviewSchema)
    @blp.alt_response(404, description="Course not found!!")
    @author_required()
    def get(self, id):
        """Every message a learner will get, with its length, SMS segments and encoding"""
        return services.preview_course(current_actor(), id)


@blp.route("/<int:c_id>/<int:day>")
class DayByNumber(MethodView):
    @blp.arguments(DayUpdateSchema, example=EXAMPLE_DAY)
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, description="Course not found!! / Day not found!!")
    @author_required()
    def put(self, body, c_id, day):
        """Change a day's text; a given question list replaces the day's questions"""
        days.update_day(current_actor(), c_id, day, body, now=clock.now())
        return SUCCESS

    @blp.response(200, MessageSchema)
    @blp.alt_response(404, description="Course not found!! / Day not found!!")
    @author_required()
    def delete(self, c_id, day):
        """Delete a day; the later days are renumbered"""
        days.delete_day(current_actor(), c_id, day, now=clock.now())
        return SUCCESS


@blp.route("/<int:c_id>/<int:day>/<int:q_id>")
class QuestionById(MethodView):
    @blp.arguments(QuestionUpdateSchema, example=EXAMPLE_QUESTION)
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, description="Course not found!! / Day not found!! / "
                                       "Question not found!!")
    @author_required()
    def put(self, body, c_id, day, q_id):
        """Change the given fields of a question"""
        days.update_question(current_actor(), c_id, day, q_id, body, now=clock.now())
        return SUCCESS

    @blp.response(200, MessageSchema)
    @blp.alt_response(404, description="Course not found!! / Day not found!! / "
                                       "Question not found!!")
    @author_required()
    def delete(self, c_id, day, q_id):
        """Delete a question; the later ones move up"""
        days.delete_question(current_actor(), c_id, day, q_id, now=clock.now())
        return SUCCESS
