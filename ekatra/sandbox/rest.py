"""Twilio's REST API (2010-04-01) as the sandbox speaks it: validation, errors and JSON shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from urllib.parse import urlencode

from ekatra.sandbox.store import WHATSAPP_PREFIX, DateFilter, SandboxMessage

API_VERSION = "2010-04-01"
MAX_BODY_CHARS = 1600
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_SHORT_CODE = re.compile(r"\d{3,8}")
_ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


class TwilioError(Exception):
    """An error answered in Twilio's shape: `{"code", "message", "more_info", "status"}`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def as_json(self) -> dict:
        return {"code": self.code, "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}", "status": self.status}


def authentication_error() -> TwilioError:
    return TwilioError(401, 20003, "Authenticate")


def not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def channel_mismatch() -> TwilioError:
    return TwilioError(400, 21910, "Invalid From and To pair. From and To should be of the same channel")


def bare_number(address: str) -> str:
    """`whatsapp:+919812345678` → `+919812345678`; an SMS number stays as it is."""
    return address.removeprefix(WHATSAPP_PREFIX)


def is_e164(number: str) -> bool:
    return _E164.fullmatch(number) is not None


def is_learner_address(address: str) -> bool:
    """An E.164 number, or `whatsapp:` followed by one."""
    return is_e164(bare_number(address))


@dataclass(frozen=True, slots=True)
class CreateRequest:
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    content_sid: str | None = None
    content_variables: str | None = None


def parse_create(form) -> CreateRequest:
    """Check a `POST …/Messages.json` form the way Twilio does, in Twilio's order."""
    to = (form.get("To") or "").strip()
    from_ = (form.get("From") or "").strip() or None
    service = (form.get("MessagingServiceSid") or "").strip() or None
    body = form.get("Body") or ""
    if not to:
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    is_whatsapp_from = bool(from_ and from_.startswith(WHATSAPP_PREFIX))
    if to.startswith(WHATSAPP_PREFIX) and from_ and not is_whatsapp_from:
        raise channel_mismatch()
    if is_whatsapp_from or to.startswith(WHATSAPP_PREFIX):
        to_is_valid = to.startswith(WHATSAPP_PREFIX) and is_e164(bare_number(to))
    else:
        to_is_valid = is_e164(to)
    if not to_is_valid:
        raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not from_ and not service:
        raise TwilioError(400, 21603, "A 'From' phone number is required.")
    if service and not _MESSAGING_SERVICE_SID.fullmatch(service):
        raise TwilioError(400, 21701, f"The Messaging Service Sid {service} is invalid.")
    if from_ and not (is_learner_address(from_) or _SHORT_CODE.fullmatch(from_)
                      or _ALPHANUMERIC_SENDER.fullmatch(from_)):
        raise TwilioError(400, 21212, f"The 'From' number {from_} is not a valid phone number, "
                                      "shortcode, or alphanumeric sender ID.")
    content_sid = (form.get("ContentSid") or "").strip() or None
    if content_sid is not None:
        if not _CONTENT_SID.fullmatch(content_sid):
            raise TwilioError(400, 21655, f"The ContentSid {content_sid} is invalid.")
        return CreateRequest(to, from_, service, body, (form.get("StatusCallback") or "").strip() or None,
                             content_sid, form.get("ContentVariables"))
    if not body.strip():
        raise TwilioError(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY_CHARS:
        raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    return CreateRequest(to, from_, service, body, (form.get("StatusCallback") or "").strip() or None)


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's date format: `Thu, 30 Jul 2015 20:12:31 +0000`."""
    if moment is None:
        return None
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0))


def messages_uri(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"


def message_json(message: SandboxMessage) -> dict:
    """A message resource exactly as Twilio renders one."""
    base = f"/{API_VERSION}/Accounts/{message.account_sid}/Messages/{message.sid}"
    return {
        "account_sid": message.account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": rfc2822(message.date_created),
        "date_sent": rfc2822(message.date_created),
        "date_updated": rfc2822(message.date_updated or message.date_created),
        "direction": message.direction,
        "error_code": message.error_code if message.status in ("failed", "undelivered") else None,
        "error_message": message.error_message if message.status in ("failed", "undelivered") else None,
        "from": message.from_,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": "0",
        "num_segments": str(message.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {"media": f"{base}/Media.json", "feedback": f"{base}/Feedback.json"},
        "to": message.to,
        "uri": f"{base}.json",
    }


@dataclass(frozen=True, slots=True)
class ListRequest:
    to: str | None
    from_: str | None
    dates: DateFilter
    page: int
    page_size: int
    after_sid: str | None
    filters: tuple[tuple[str, str], ...]  # kept in the page URIs, as Twilio does


def _parse_date(name: str, value: str) -> datetime | date:
    """A `DateSent` value: a date (`YYYY-MM-DD`) or a UTC instant (`YYYY-MM-DDTHH:MM:SSZ`)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TwilioError(400, 20001, f"Invalid {name}: {value!r} (expected YYYY-MM-DD)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _parse_int(name: str, value: str | None, default: int, minimum: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise TwilioError(400, 20001, f"Invalid {name}: {value!r}") from None
    if number < minimum:
        raise TwilioError(400, 20001, f"Invalid {name}: {value!r}")
    return number


def parse_list(args) -> ListRequest:
    """Read `GET …/Messages.json` query arguments: To, From, DateSent[<>], Page, PageSize, PageToken."""
    bounds = {name: _parse_date(name, args[name]) for name in ("DateSent", "DateSent<", "DateSent>")
              if args.get(name)}
    sent_on = bounds.get("DateSent")
    dates = DateFilter(
        sent_on=sent_on.date() if isinstance(sent_on, datetime) else sent_on,
        on_or_before=bounds.get("DateSent<"), on_or_after=bounds.get("DateSent>"),
    )
    token = args.get("PageToken") or None
    filters = tuple((name, args[name]) for name in ("To", "From", "DateSent", "DateSent<", "DateSent>")
                    if args.get(name))
    return ListRequest(
        to=args.get("To") or None, from_=args.get("From") or None, dates=dates,
        page=_parse_int("Page", args.get("Page"), 0, 0),
        # Twilio caps the page size rather than refusing a larger one.
        page_size=min(_parse_int("PageSize", args.get("PageSize"), DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE),
        after_sid=token[2:] if token and token.startswith("PA") else None,
        filters=filters,
    )


def list_page_json(account_sid: str, query: ListRequest, records: list[SandboxMessage],
                   has_more: bool) -> dict:
    """Twilio's list page: the records plus the paging URIs the SDK follows."""
    base = messages_uri(account_sid)

    def uri(page: int, token: str | None = None) -> str:
        params = [*query.filters, ("PageSize", str(query.page_size)), ("Page", str(page))]
        if token:
            params.append(("PageToken", token))
        return f"{base}?{urlencode(params)}"

    start = query.page * query.page_size
    next_uri = uri(query.page + 1, "PA" + records[-1].sid) if has_more and records else None
    return {
        "messages": [message_json(m) for m in records],
        "page": query.page,
        "page_size": query.page_size,
        "start": start,
        "end": start + max(len(records) - 1, 0),
        "uri": uri(query.page, f"PA{query.after_sid}" if query.after_sid else None),
        "first_page_uri": uri(0),
        "next_page_uri": next_uri,
        "previous_page_uri": uri(query.page - 1) if query.page > 0 else None,
    }
