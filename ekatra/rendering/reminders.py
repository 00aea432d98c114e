"""What a reminder and a pause notice say: a short lead-in, then the open question repeated; the
"reply RESUME" notice. In the course's language when there is a default for it (English, Hindi)."""

from __future__ import annotations

LEAD_INS = {
    "en": "Reminder: we would love your answer.",
    "hi": "याद दिला रहे हैं: आपके जवाब का इंतज़ार है।",
}
PAUSE_NOTICES = {
    "en": "We have not heard from you for a few days, so {course} is paused. "
          "Reply RESUME to continue where you left off.",
    "hi": "कुछ दिनों से आपका जवाब नहीं आया, इसलिए {course} रोक दिया गया है। "
          "जहाँ छोड़ा था वहीं से जारी रखने के लिए RESUME या \"फिर से शुरू\" लिखें।",
}
DEFAULT_LANGUAGE = "en"
MAX_LEAD_IN_CHARS = 200


def _language(tag: str | None) -> str:
    """The primary subtag of a BCP 47 tag ("hi-IN" → "hi"), if there are texts for it."""
    primary = (tag or "").split("-")[0].lower()
    return primary if primary in LEAD_INS else DEFAULT_LANGUAGE


def reminder_lead_in(course_lead_in: str | None, language: str | None) -> str:
    """The course's own lead-in, else the default in its language (else English)."""
    return (course_lead_in or "").strip() or LEAD_INS[_language(language)]


def render_reminder(lead_in: str, question_body: str) -> str:
    """A reminder: the lead-in, then the question as it was asked (with its options)."""
    return f"{lead_in}\n{question_body}"


def render_pause_notice(course_name: str, language: str | None) -> str:
    """The one message a learner paused for silence gets instead of their day."""
    return PAUSE_NOTICES[_language(language)].format(course=course_name)
