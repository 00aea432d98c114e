"""/api/group: groups of learners, their students, CSV/XLSX import and export."""

from __future__ import annotations

import io

from flask import request, send_file
from flask.views import MethodView

from ekatra import clock
from ekatra.auth.tokens import author_required, current_actor, current_reader
from ekatra.errors import Invalid, UnsupportedMediaType
from ekatra.groups import services, transfer
from ekatra.groups.csvio import XLSX_CONTENT_TYPE
from ekatra.groups.schemas import (
    CreatedSchema,
    ExportQueryArgsSchema,
    GroupOutSchema,
    GroupSchema,
    GroupUpdateSchema,
    ImportedSchema,
    ImportFileSchema,
    StudentsAddedSchema,
    StudentsSchema,
    StudentUpdateSchema,
)
from ekatra.http import Blueprint
from ekatra.schemas import MessageSchema

blp = Blueprint("groups", __name__, url_prefix="/api/group",
                description="Groups of learners and their students")

EXAMPLE_STUDENTS = [
    {"name": "Tejas", "number": "+919380169981", "channel": "whatsapp", "is_subscribed": True,
     "timezone": "Asia/Kolkata", "country_code": "+91"},
    {"name": "Amit", "number": "9113029491", "country_code": "+91", "channel": "sms",
     "timezone": "Asia/Kolkata"},
]
EXAMPLE_GROUP = {"name": "Group1", "description": "group1", "default_timezone": "Asia/Kolkata",
                 "default_channel": "sms", "students": EXAMPLE_STUDENTS}
CSV_TYPES = ("text/csv", "application/csv")
UPLOAD_TYPES = (*CSV_TYPES, XLSX_CONTENT_TYPE)

_NOT_FOUND = {"description": "No such group (or it is another author's)"}
_INVALID_STUDENT = {"description": "A bad number, timezone or channel; `errors` names the "
                                   "student (students.<index>.<field>)"}
_DUPLICATE = {"description": "The same phone twice in the group"}


@blp.route("/")
class Groups(MethodView):
    @blp.response(200, GroupOutSchema(many=True))
    @author_required()
    def get(self):
        """List your groups with their students"""
        return services.list_groups(current_actor())

    @blp.arguments(GroupSchema, example=EXAMPLE_GROUP)
    @blp.response(200, CreatedSchema)
    @blp.alt_response(400, **_INVALID_STUDENT)
    @blp.alt_response(409, **_DUPLICATE)
    @author_required()
    def post(self, body):
        """Create a group with its students"""
        group = services.create_group(current_actor(), body, now=clock.now())
        return {"message": "success", "id": group.id}


@blp.route("/<int:group_id>")
class GroupById(MethodView):
    @blp.response(200, GroupOutSchema)
    @blp.alt_response(404, **_NOT_FOUND)
    @author_required(session_in_read=True)
    def get(self, group_id):
        """Read a group and its students"""
        return services.get_group(current_reader(), group_id)

    @blp.doc(description="Changes the given fields. A given `students` list becomes the "
                         "group's students: an item with an `id`, or else with the number of a "
                         "student already in the group, updates that student in place; other "
                         "items are added; students not listed are removed. Without "
                         "`students`, the students stay as they are.")
    @blp.arguments(GroupUpdateSchema, example=EXAMPLE_GROUP)
    @blp.response(200, CreatedSchema)
    @blp.alt_response(400, **_INVALID_STUDENT)
    @blp.alt_response(404, **_NOT_FOUND)
    @blp.alt_response(409, **_DUPLICATE)
    @author_required()
    def put(self, body, group_id):
        """Change a group; a given student list replaces its students"""
        group = services.update_group(current_actor(), group_id, body, now=clock.now())
        return {"message": "success", "id": group.id}

    @blp.response(200, MessageSchema)
    @blp.alt_response(404, **_NOT_FOUND)
    @author_required()
    def delete(self, group_id):
        """Delete a group and its students"""
        services.delete_group(current_actor(), group_id, now=clock.now())
        return {"message": "success"}


@blp.route("/<int:group_id>/students")
class GroupStudents(MethodView):
    @blp.arguments(StudentsSchema, example={"students": EXAMPLE_STUDENTS[1:]})
    @blp.response(200, StudentsAddedSchema)
    @blp.alt_response(400, **_INVALID_STUDENT)
    @blp.alt_response(404, **_NOT_FOUND)
    @blp.alt_response(409, **_DUPLICATE)
    @author_required()
    def post(self, body, group_id):
        """Add students to a group"""
        students = services.add_students(current_actor(), group_id, body["students"],
                                         now=clock.now())
        return {"message": "success", "ids": [student.id for student in students]}


@blp.route("/<int:group_id>/<int:student_id>")
class GroupStudent(MethodView):
    @blp.arguments(StudentUpdateSchema, example={"channel": "whatsapp", "is_subscribed": False})
    @blp.response(200, CreatedSchema)
    @blp.alt_response(400, description="A bad number, timezone or channel")
    @blp.alt_response(404, description="No such group or student")
    @blp.alt_response(409, **_DUPLICATE)
    @author_required()
    def put(self, body, group_id, student_id):
        """Change one student (only the fields given)"""
        student = services.update_student(current_actor(), group_id, student_id, body,
                                          now=clock.now())
        return {"message": "success", "id": student.id}

    @blp.response(200, MessageSchema)
    @blp.alt_response(404, description="No such group or student")
    @author_required()
    def delete(self, group_id, student_id):
        """Remove one student from a group"""
        services.remove_student(current_actor(), group_id, student_id, now=clock.now())
        return {"message": "success"}


@blp.route("/<int:group_id>/import")
class GroupImport(MethodView):
    @blp.doc(description=(
        "Upload a CSV (UTF-8, comma or semicolon separated) or an .xlsx as the multipart field "
        "`file`, or send the CSV itself as the body with `Content-Type: text/csv`. Row 1 names "
        "the columns: `name`, `number`, and optionally `channel`, `timezone` (else the group's "
        "defaults), `country_code`, `is_subscribed` (any case; other columns are ignored). "
        "At most 10,000 students, on rows 2 to 10,001 (blank rows count); an .xlsx may hold "
        "at most 120,012 cells and unpack to 16 MB. All rows are added or none: any bad row, a "
        "number twice in the file or a number already in the group gives a 400 whose `errors` "
        "maps each bad row's number (the header is row 1) to its field errors."),
        requestBody={"content": {"text/csv": {"schema": {"type": "string"}}}})
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportedSchema)
    @blp.alt_response(400, description="Bad rows (none imported), or an unreadable file")
    @blp.alt_response(404, **_NOT_FOUND)
    @blp.alt_response(413, description="A row past row 10,001, too many .xlsx cells, or over the "
                                        "request size limit")
    @blp.alt_response(415, description="Neither multipart/form-data nor text/csv")
    @author_required()
    def post(self, files, group_id):
        """Import students from a CSV or XLSX file (all rows or none)"""
        if "file" in files:
            content = files["file"].read()
        elif request.mimetype in UPLOAD_TYPES:
            content = request.get_data()
        elif request.mimetype == "multipart/form-data":
            raise Invalid("The upload has no field named `file`.", {"file": ["Missing file."]})
        else:
            raise UnsupportedMediaType(
                "Send the file as multipart/form-data (field `file`) or as a text/csv body.")
        imported = transfer.import_students(current_actor(), group_id, content, now=clock.now())
        return {"message": "success", "imported": imported}


@blp.route("/<int:group_id>/export")
class GroupExport(MethodView):
    @blp.arguments(ExportQueryArgsSchema, location="query")
    @blp.doc(responses={"200": {
        "description": "An attachment in the import's columns: CSV, or XLSX with format=xlsx",
        "content": {content_type: {"schema": {"type": "string", "format": "binary"}}
                    for content_type in ("text/csv", XLSX_CONTENT_TYPE)}}})
    @blp.alt_response(404, **_NOT_FOUND)
    @author_required()
    def get(self, args, group_id):
        """Download the students as CSV or XLSX"""
        export = transfer.export_students(current_actor(), group_id, args["format"])
        return send_file(io.BytesIO(export.content), mimetype=export.content_type,
                         as_attachment=True, download_name=export.filename)
