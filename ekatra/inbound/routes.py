"""/twilio: the webhooks Twilio calls (form-encoded, signed; no bearer token)."""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView

from ekatra import clock
from ekatra.http import PUBLIC, Blueprint
from ekatra.inbound import replies
from ekatra.inbound.schemas import InboundMessageSchema, StatusCallbackSchema
from ekatra.inbound.signatures import twilio_signed, webhook_livemode
from ekatra.outbox import status

blp = Blueprint("twilio", __name__, url_prefix="/twilio",
                description="Webhooks called by Twilio, signed with X-Twilio-Signature")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
_TWIML_OK = {"200": {"description": "Acknowledged (also for an unknown sid): empty TwiML",
                     "content": {"text/xml": {"schema": {"type": "string"}, "example": EMPTY_TWIML}}},
             "403": {"description": "Missing or invalid X-Twilio-Signature"}}


def twiml_ok() -> Response:
    return Response(EMPTY_TWIML, status=200, content_type="text/xml; charset=utf-8")


@blp.route("/status")
class StatusCallback(MethodView):
    @twilio_signed
    @blp.doc(security=PUBLIC, responses=_TWIML_OK)
    @blp.arguments(StatusCallbackSchema, location="form")
    def post(self, form):
        """Message status callback from Twilio (sent, delivered, read, undelivered, failed)"""
        status.record_status(form["message_sid"], form["message_status"], now=clock.now(),
                             to=form["to"], error_code=form["error_code"],
                             error_message=form["error_message"], livemode=webhook_livemode())
        return twiml_ok()


@blp.route("/inbound")
class InboundMessage(MethodView):
    @twilio_signed
    @blp.doc(security=PUBLIC, responses=_TWIML_OK)
    @blp.arguments(InboundMessageSchema, location="form")
    def post(self, form):
        """A learner's reply (SMS or WhatsApp): keywords, answers, feedback queued in the outbox"""
        replies.receive_reply(provider_sid=form["message_sid"], from_=form["sender"], to=form["to"],
                              body=form["body"], now=clock.now(),
                              settings=replies.ReplySettings.from_config(current_app.config),
                              button=replies.Button.of(form["button_payload"], form["button_text"]),
                              livemode=webhook_livemode())
        return twiml_ok()
