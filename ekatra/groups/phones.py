"""What a student's fields may hold: phones in E.164, the channels, IANA timezones.

Pure functions (no database): `check_student` checks a whole student from a request or a file.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from functools import lru_cache

import phonenumbers

from ekatra.groups.models import NAME_MAX_CHARS

CHANNELS = ("sms", "whatsapp")

MAX_NUMBER_CHARS = 40
_COUNTRY_CODE = re.compile(r"\+?(\d{1,3})")
# Names in the tz database that are not a place a learner lives in.
_NOT_A_PLACE = {"localtime", "posixrules", "factory"}
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
_PARSE_PROBLEMS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "Unknown country code.",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "Not a phone number.",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "Too short to be a phone number.",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "Too short to be a phone number.",
    phonenumbers.NumberParseException.TOO_LONG: "Too long to be a phone number.",
}


def region_for_country_code(country_code: str) -> str:
    """The region ("IN") of a calling code written "+91" or "91"; ValueError if there is none."""
    match = _COUNTRY_CODE.fullmatch(country_code.strip())
    region = phonenumbers.region_code_for_country_code(int(match.group(1))) if match else "ZZ"
    if region == "ZZ":
        raise ValueError(f"{country_code!r} is not a country calling code (like +91 or +1).")
    return region


def calling_code(phone: str) -> str:
    """The calling code ("+91") of a number already in E.164."""
    # Calling codes are prefix-free, so the first known prefix is the code; no second parse.
    for length in (1, 2, 3):
        if int(phone[1:1 + length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return phone[:1 + length]
    raise ValueError(f"{phone!r} is not in E.164.")


def normalise_phone(number: str, country_code: str | None = None,
                    default_region: str | None = None) -> str:
    """The number in E.164 (`+919113029491`), or ValueError saying why it is not a phone number.

    A number with a leading `+` (or the international prefix `00`) is read as it is; a national
    number (`09113029491`, `9113029491`) is read in the country of `country_code` ("+91" or
    "91"), else of `default_region` ("IN").
    """
    text = number.strip() if isinstance(number, str) else ""
    if not text:
        raise ValueError("A phone number is required.")
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"A phone number has at most {MAX_NUMBER_CHARS} characters.")
    if not any(char.isdigit() for char in text):
        raise ValueError("Not a phone number.")
    if text.startswith("00"):
        text = "+" + text[2:]
    region = None
    if not text.startswith("+"):
        if country_code:
            region = region_for_country_code(country_code)
        elif default_region:
            region = default_region
        else:
            raise ValueError("A national number needs a country_code (like +91); "
                             "or write the number with its + and country code.")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(_PARSE_PROBLEMS.get(error.error_type, "Not a phone number.")) from None
    if not phonenumbers.is_valid_number(parsed):
        where = f" for country code +{parsed.country_code}" if parsed.country_code else ""
        raise ValueError(f"{text!r} is not a valid phone number{where}.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_channel(channel: str) -> str:
    """"SMS" → "sms"; ValueError for anything but sms or whatsapp."""
    value = channel.strip().lower() if isinstance(channel, str) else ""
    if value not in CHANNELS:
        raise ValueError(f"Channel must be one of {', '.join(CHANNELS)}.")
    return value


@lru_cache(maxsize=1)
def _timezones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()
            if name.casefold() not in _NOT_A_PLACE}


def canonical_timezone(name: str) -> str:
    """The tz database's spelling of an IANA zone name ("asia/kolkata" → "Asia/Kolkata").

    ValueError for anything else: empty, "localtime", file paths, unknown names.
    """
    text = name.strip() if isinstance(name, str) else ""
    canonical = _timezones_by_folded_name().get(text.casefold()) if text else None
    if canonical is None:
        raise ValueError(f"{text!r} is not an IANA timezone (like Asia/Kolkata or UTC).")
    try:
        zoneinfo.ZoneInfo(canonical)
    except Exception:  # ZoneInfo raises several kinds (ValueError for paths, OSError, …)
        raise ValueError(f"{text!r} is not an IANA timezone (like Asia/Kolkata or UTC).") from None
    return canonical


def is_valid_timezone(name: str) -> bool:
    try:
        canonical_timezone(name)
    except ValueError:
        return False
    return True


def is_given(value) -> bool:
    """Present and not blank: an empty cell or an empty string counts as left out."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def check_student(raw: Mapping, default_channel: str = "sms", default_timezone: str = "UTC", *,
                  partial: bool = False) -> tuple[dict, dict[str, list[str]]]:
    """A student's column values from a request body or a file row, and the errors by field.

    Returns (values, errors): values use the column names (`phone`, its `country_code`);
    errors use the API's field names (`number`). A missing channel or timezone takes the
    default; with `partial`, only the fields given are checked and returned.
    """
    clean: dict = {}
    errors: dict[str, list[str]] = {}

    def check(field: str, convert):
        try:
            return convert()
        except ValueError as error:
            errors.setdefault(field, []).append(str(error))
            return None

    if "name" in raw or not partial:
        name = (raw.get("name") or "").strip() if isinstance(raw.get("name"), str) else ""
        if not name:
            errors["name"] = ["A name is required."]
        elif len(name) > NAME_MAX_CHARS:
            errors["name"] = [f"At most {NAME_MAX_CHARS} characters."]
        elif "\x00" in name:  # PostgreSQL cannot store NUL, and no phone shows it
            errors["name"] = ["Must not contain NUL characters."]
        else:
            clean["name"] = name
    country_code = raw.get("country_code") if is_given(raw.get("country_code")) else None
    if country_code is not None:
        check("country_code", lambda: region_for_country_code(str(country_code)))
    number = raw.get("number") if isinstance(raw.get("number"), str) else ""
    national = not number.strip().startswith(("+", "00"))
    if ("number" in raw or not partial) and not ("country_code" in errors and national):
        phone = check("number", lambda: normalise_phone(number, country_code))
        if phone:
            clean["phone"] = phone
            clean["country_code"] = calling_code(phone)
    if is_given(raw.get("channel")) or not partial:
        channel = raw.get("channel") if is_given(raw.get("channel")) else default_channel
        value = check("channel", lambda: normalise_channel(channel))
        if value:
            clean["channel"] = value
    if is_given(raw.get("timezone")) or not partial:
        zone = raw.get("timezone") if is_given(raw.get("timezone")) else default_timezone
        value = check("timezone", lambda: canonical_timezone(zone))
        if value:
            clean["timezone"] = value
    subscribed = raw.get("is_subscribed")
    if isinstance(subscribed, bool):
        clean["is_subscribed"] = subscribed
    elif is_given(subscribed):
        text = str(subscribed).strip().casefold()
        if text in _TRUE | _FALSE:
            clean["is_subscribed"] = text in _TRUE
        else:
            errors["is_subscribed"] = ["Must be true or false."]
    elif not partial:
        clean["is_subscribed"] = True
    return clean, errors
