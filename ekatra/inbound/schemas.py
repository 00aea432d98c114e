"""The forms Twilio posts to the webhooks (form-encoded, Twilio's capitalised names)."""

from __future__ import annotations

from marshmallow import fields

from ekatra.schemas import BaseSchema


class StatusCallbackSchema(BaseSchema):
    """Twilio's message status callback; fields not named here are accepted and ignored."""

    message_sid = fields.String(data_key="MessageSid", required=True,
                                metadata={"example": "SM0123456789abcdef0123456789abcdef"})
    message_status = fields.String(data_key="MessageStatus", required=True,
                                   metadata={"example": "delivered"})
    to = fields.String(data_key="To", load_default=None, metadata={"example": "+919812345678"})
    sender = fields.String(data_key="From", load_default=None, metadata={"example": "+15005550006"})
    error_code = fields.Integer(data_key="ErrorCode", load_default=None, allow_none=True,
                                metadata={"example": 30003})
    error_message = fields.String(data_key="ErrorMessage", load_default=None, allow_none=True,
                                  metadata={"example": "Unreachable destination handset"})


class InboundMessageSchema(BaseSchema):
    """Twilio's incoming-message webhook; fields not named here are accepted and ignored."""

    message_sid = fields.String(data_key="MessageSid", required=True,
                                metadata={"example": "SM0123456789abcdef0123456789abcdef"})
    sender = fields.String(data_key="From", required=True, metadata={"example": "whatsapp:+919812345678"})
    to = fields.String(data_key="To", load_default=None, metadata={"example": "+15005550006"})
    body = fields.String(data_key="Body", load_default="", metadata={"example": "B"})
    button_payload = fields.String(data_key="ButtonPayload", load_default=None, allow_none=True,
                                   metadata={"description": "WhatsApp quick reply: the tapped button's id",
                                             "example": "yes"})
    button_text = fields.String(data_key="ButtonText", load_default=None, allow_none=True,
                                metadata={"description": "WhatsApp quick reply: the tapped button's title",
                                          "example": "Yes"})
