"""The sandbox's stand-in for Twilio's Content API: the WhatsApp templates it knows, rendered
with their variables, and `GET /v1/Content/{sid}` in Twilio's shape.

It knows the templates Ekatra's development defaults and demo use (a day's opener, the opener
of a message outside a course, and quick replies for yes/no and two- or three-option
questions); `Sandbox(templates=…)` adds others.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ekatra.config import (
    SANDBOX_CHOICE2_CONTENT_SID,
    SANDBOX_CHOICE3_CONTENT_SID,
    SANDBOX_NOTICE_CONTENT_SID,
    SANDBOX_OPENER_CONTENT_SID,
    SANDBOX_YES_NO_CONTENT_SID,
)

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
QUICK_REPLY = "twilio/quick-reply"


@dataclass(frozen=True)
class Template:
    """A quick-reply content template: a body and buttons (title, id), both with {{n}} variables."""

    sid: str
    friendly_name: str
    body: str
    buttons: tuple[tuple[str, str], ...] = ()

    def render(self, variables: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The text and buttons a learner sees with these variables."""

        def fill(text: str) -> str:
            return _PLACEHOLDER.sub(lambda match: str(variables.get(match[1], match[0])), text)

        return fill(self.body), tuple((fill(title), fill(button_id)) for title, button_id in self.buttons)

    def as_json(self) -> dict:
        """The Content API's resource for this template."""
        names = sorted({int(n) for n in _PLACEHOLDER.findall(self.body + json.dumps(self.buttons))})
        return {
            "sid": self.sid, "friendly_name": self.friendly_name, "language": "en",
            "variables": {str(n): f"variable {n}" for n in names},
            "types": {QUICK_REPLY: {"body": self.body,
                                    "actions": [{"title": t, "id": i} for t, i in self.buttons]}},
            "url": f"https://content.twilio.com/v1/Content/{self.sid}",
        }


DEMO_TEMPLATES = (
    Template(SANDBOX_OPENER_CONTENT_SID, "ekatra_day_ready",
             "Hi {{1}}, day {{3}} of {{2}} is ready. Reply to start.", (("Start", "start"),)),
    Template(SANDBOX_NOTICE_CONTENT_SID, "ekatra_message_waiting",
             "You have a new message. Reply to read it.", (("Read it", "read"),)),
    Template(SANDBOX_YES_NO_CONTENT_SID, "ekatra_yes_no", "{{1}}", (("Yes", "yes"), ("No", "no"))),
    Template(SANDBOX_CHOICE2_CONTENT_SID, "ekatra_choice_2", "{{1}}", (("{{2}}", "A"), ("{{3}}", "B"))),
    Template(SANDBOX_CHOICE3_CONTENT_SID, "ekatra_choice_3", "{{1}}",
             (("{{2}}", "A"), ("{{3}}", "B"), ("{{4}}", "C"))),
)


def parse_variables(raw: str | None) -> dict[str, str] | None:
    """ContentVariables as Twilio reads them: a JSON object, or None if it is not one."""
    if not raw:
        return {}
    try:
        variables = json.loads(raw)
    except ValueError:
        return None
    return {str(k): str(v) for k, v in variables.items()} if isinstance(variables, dict) else None
