"""/api/partner bulk routes: import learners (JSON or CSV/XLSX), export them, and analytics."""

from __future__ import annotations

from flask import Response, current_app, g, request, stream_with_context
from flask.views import MethodView
from marshmallow import RAISE

from ekatra import clock, spreadsheets
from ekatra.errors import Invalid, UnsupportedMediaType
from ekatra.http import Blueprint
from ekatra.partners import analytics, bulk, export
from ekatra.partners.bulkrows import FIELDS, MAX_BULK_ROWS
from ekatra.partners.schemas import (
    AnalyticsQuerySchema,
    AnalyticsSchema,
    BulkFileSchema,
    BulkImportResultSchema,
    BulkLearnerSchema,
    LearnerExportQuerySchema,
)
from ekatra.partners.tokens import PARTNER_KEYS, partner_required

blp = Blueprint("partner_bulk", __name__,
                description="Partner API (ST-ACCESS-KEY / ST-SECRET-KEY): bulk import, export, analytics")

CSV_TYPES = ("text/csv", "application/csv")
UPLOAD_TYPES = (*CSV_TYPES, spreadsheets.XLSX_CONTENT_TYPE)
EXAMPLE_ROWS = [
    {"external_id": "HR-00042", "name": "Asha Rao", "email": "asha@example.org", "phone": "+919812345678",
     "channel": "whatsapp", "timezone": "Asia/Kolkata"},
    {"external_id": "HR-00043", "name": "Ravi Kumar", "phone": "9812345679", "country_code": "+91"},
]


@blp.route("/api/partner/students/bulk")
class BulkImport(MethodView):
    @blp.doc(security=PARTNER_KEYS, description=(
        f"Create or update up to {MAX_BULK_ROWS:,} learners, matched by `external_id` (the partner's "
        "own id). Send a JSON list of objects, a CSV (UTF-8, comma or semicolon separated) or an .xlsx "
        "as the multipart field `file`, or the CSV itself with `Content-Type: text/csv`. Fields and "
        "columns: " + ", ".join(FIELDS) + " (a file's other columns are ignored; a JSON row's are an "
        "error). Every row is reported; a bad row writes nothing and the others are written. Bodies "
        "up to BULK_IMPORT_MAX_MB (8 MB)."),
        requestBody={"content": {
            "application/json": {"schema": BulkLearnerSchema(many=True),
                                 "example": EXAMPLE_ROWS},
            "text/csv": {"schema": {"type": "string"}}}})
    @blp.arguments(BulkFileSchema, location="files")
    @blp.response(200, BulkImportResultSchema)
    @blp.alt_response(400, description="Not a list, an unreadable file, or a header without external_id")
    @blp.alt_response(413, description=f"More than {MAX_BULK_ROWS:,} rows, or over BULK_IMPORT_MAX_MB")
    @blp.alt_response(415, description="Neither JSON, multipart/form-data nor text/csv")
    @partner_required
    def post(self, files):
        """Create or update many learners by external_id (JSON list, CSV or XLSX)"""
        if "file" in files:
            report = bulk.import_file(g.partner, files["file"].read(), now=clock.now())
        elif request.mimetype in UPLOAD_TYPES:
            report = bulk.import_file(g.partner, request.get_data(), now=clock.now())
        elif request.is_json:
            report = bulk.import_json(g.partner, request.get_json(), now=clock.now())
        elif request.mimetype == "multipart/form-data":
            raise Invalid("The upload has no field named `file`.", {"file": ["Missing file."]})
        else:
            raise UnsupportedMediaType("Send a JSON list, a multipart/form-data upload (field `file`) "
                                       "or a text/csv body.")
        return report


def _download(chunks, content_type: str, filename: str) -> Response:
    return Response(stream_with_context(chunks), content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/api/partner/export/students")
class LearnerExport(MethodView):
    @blp.doc(security=PARTNER_KEYS, responses={"200": {
        "description": "This partner's learners with their enrollments, progress, answers and "
                       "certificates: CSV (one row per learner and enrollment), XLSX, or a JSON array",
        "content": {content_type: {"schema": {"type": "string", "format": "binary"}}
                    for content_type in (spreadsheets.CSV_CONTENT_TYPE, spreadsheets.XLSX_CONTENT_TYPE,
                                         "application/json")}}})
    @blp.arguments(LearnerExportQuerySchema, location="query", unknown=RAISE)
    @partner_required
    def get(self, args):
        """Download this partner's learners (CSV, XLSX or JSON; streamed)"""
        file_format = args["format"]
        chunks = export.export_stream(g.partner, file_format, base_url=current_app.config["PUBLIC_BASE_URL"])
        return _download(chunks, export.CONTENT_TYPES[file_format], f"learners.{file_format}")


@blp.route("/api/partner/analytics")
class PartnerAnalytics(MethodView):
    @blp.doc(security=PARTNER_KEYS, description=(
        "Per day, week (from Monday) or month, in UTC: signups, enrollments, messages sent / delivered "
        "/ failed, answers, answers_correct and correct_rate (of graded answers), completions and "
        "certificates; JSON, or CSV with format=csv (one row per period)."))
    @blp.arguments(AnalyticsQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, AnalyticsSchema)
    @blp.alt_response(400, description="Bad dates, end before start, or more than 366 days")
    @partner_required
    def get(self, args):
        """This partner's activity per day, week or month"""
        report = analytics.partner_analytics(g.partner, start_date=args["start_date"],
                                             end_date=args["end_date"], group_by=args["group_by"],
                                             now=clock.now())
        if args["format"] == "csv":
            header = ("period", *analytics.MEASURES)
            content = spreadsheets.csv_bytes(header, ([row[name] for name in header]
                                                      for row in report.periods))
            name = f"analytics-{report.start_date}-{report.end_date}-{report.group_by}.csv"
            return Response(content, content_type=spreadsheets.CSV_CONTENT_TYPE,
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return report
