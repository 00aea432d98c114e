"""Simulated learner replies: Twilio's incoming-message webhook form, keywords and TwiML answers."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ElementTree

from ekatra.sandbox.rest import API_VERSION
from ekatra.sandbox.store import WHATSAPP_PREFIX, SandboxMessage

log = logging.getLogger(__name__)

# Twilio's default opt-out handling for SMS: after STOP, sends to that number fail with 21610.
OPT_OUT_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
OPT_IN_KEYWORDS = {"START", "UNSTOP"}


def opt_out_change(message: SandboxMessage) -> bool | None:
    """True for an SMS opt-out keyword, False for an opt-in one, None otherwise."""
    if message.from_.startswith(WHATSAPP_PREFIX):
        return None
    keyword = message.body.strip().upper()
    if keyword in OPT_OUT_KEYWORDS:
        return True
    return False if keyword in OPT_IN_KEYWORDS else None


def inbound_params(message: SandboxMessage) -> dict[str, str]:
    """The form of Twilio's incoming-message webhook."""
    params = {
        "MessageSid": message.sid, "SmsMessageSid": message.sid, "SmsSid": message.sid,
        "AccountSid": message.account_sid, "From": message.from_, "To": message.to,
        "Body": message.body, "NumMedia": "0", "NumSegments": str(message.num_segments),
        "SmsStatus": "received", "ApiVersion": API_VERSION,
    }
    if message.from_.startswith(WHATSAPP_PREFIX):
        params["WaId"] = message.from_.removeprefix(WHATSAPP_PREFIX + "+")
    if message.button_payload is not None:  # a tapped quick reply
        params["ButtonPayload"] = message.button_payload
        params["ButtonText"] = message.body
        params["MessageType"] = "button"
    return params


def twiml_messages(twiml: str) -> list[str]:
    """The bodies of the `<Message>` verbs in a webhook's TwiML answer (Twilio sends each)."""
    if "<Message" not in twiml:
        return []
    try:
        root = ElementTree.fromstring(twiml.strip())
    except ElementTree.ParseError:
        log.warning("the inbound webhook answered with malformed TwiML: %r", twiml[:200])
        return []
    bodies = []
    for element in root.iter("Message"):
        body_element = element.find("Body")
        text = ((body_element.text if body_element is not None else element.text) or "").strip()
        if text:
            bodies.append(text)
    return bodies
