"""Partners and their learner accounts: keys, signup, login sessions, profile, details."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from ekatra.auth.passwords import check_password, hash_password, password_problem
from ekatra.errors import Conflict, Invalid, NotFound, RateLimited, Unauthorized
from ekatra.extensions import MAX_ID, db
from ekatra.groups.models import Student
from ekatra.groups.phones import calling_code, canonical_timezone, normalise_channel, normalise_phone
from ekatra.partners.locks import lock_name
from ekatra.partners.models import NO_PASSWORD, Coupon, LearnerAccount, LearnerSession, LoginFailure, Partner
from ekatra.transactions import transaction
from ekatra.webhooks import services as webhooks

MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
BAD_KEYS = "Missing or wrong ST-ACCESS-KEY / ST-SECRET-KEY."
USER_NOT_FOUND = "User not found."
_DUMMY_SECRET_HASH = hashlib.sha256(b"no-such-partner").hexdigest()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Partners ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerKeys:
    partner: Partner
    access_key: str
    secret_key: str


TEST_ACCESS_PREFIX, TEST_SECRET_PREFIX = "pk_test_", "sk_test_"


def create_partner(*, name: str, now: datetime, livemode: bool = True) -> PartnerKeys:
    """A partner with a fresh key pair; the secret is returned here once and stored hashed.

    A test partner (`livemode` false) gets `pk_test_…` / `sk_test_…` keys, so that a key shows
    its mode wherever it is pasted; live keys keep their format (`pk_…` and a bare secret)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("A partner needs a name of 1 to 200 characters.", {"name": ["1 to 200 characters."]})
    access_key, secret_key = "pk_" + secrets.token_hex(16), secrets.token_urlsafe(32)
    if not livemode:
        access_key, secret_key = TEST_ACCESS_PREFIX + access_key[3:], TEST_SECRET_PREFIX + secret_key
    partner = Partner(name=name, access_key=access_key, secret_hash=_sha256(secret_key), livemode=livemode,
                      created_at=now)
    db.session.add(partner)
    db.session.commit()
    return PartnerKeys(partner, access_key, secret_key)


def authenticate_partner(access_key: str | None, secret_key: str | None) -> Partner:
    """The partner these keys belong to, or Unauthorized. Constant-time secret comparison."""
    partner = None
    if access_key and len(access_key) <= 64:
        partner = db.session.scalar(select(Partner).where(Partner.access_key == access_key))
    stored = partner.secret_hash if partner else _DUMMY_SECRET_HASH
    matches = hmac.compare_digest(_sha256(secret_key or ""), stored)
    if partner is None or not secret_key or not matches:
        raise Unauthorized(BAD_KEYS)
    return partner


# Learner accounts -------------------------------------------------------------------------------


def normalise_login_id(raw: str) -> tuple[str, str | None, str | None]:
    """(login_id, email, phone) from the contract's `id`: an email, or a phone with its +code."""
    text = raw.strip()
    if "@" in text:
        local, _, domain = text.rpartition("@")
        if not local or "." not in domain or len(text) > 254 or any(c.isspace() for c in text):
            raise Invalid("`id` is neither an email nor a phone number.", {"id": ["Not an email."]})
        return text.casefold(), text.casefold(), None
    try:
        phone = normalise_phone(text)
    except ValueError as problem:
        raise Invalid(f"`id` is neither an email nor a phone number: {problem}",
                      {"id": [str(problem)]}) from None
    return phone, None, phone


def clean_profile(fields: dict) -> dict:
    """The given profile fields checked and normalised: phone (E.164, with `country_code`
    for a national number), channel, timezone, full_name. Invalid lists every bad field."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    checks = {"phone": lambda v: normalise_phone(v, fields.get("country_code")),
              "channel": normalise_channel, "timezone": canonical_timezone}
    for name, check in checks.items():
        if fields.get(name) is not None:
            try:
                clean[name] = check(fields[name])
            except ValueError as problem:
                errors[name] = [str(problem)]
    if fields.get("full_name") is not None:
        if not fields["full_name"].strip() or "\x00" in fields["full_name"]:
            errors["full_name"] = ["Must not be blank."]
        else:
            clean["full_name"] = fields["full_name"].strip()
    if errors:
        raise Invalid("Invalid user fields.", errors)
    return clean


def signup(partner: Partner, *, login: str, full_name: str, password: str, source: str,
           now: datetime, rounds: int = 12, contact: dict | None = None, username: str | None = None,
           is_active: bool = True, profile: dict | None = None) -> LearnerAccount:
    """A new learner account. `contact` may set phone (+ country_code), channel and timezone,
    checked as `update_account` checks them; the phone defaults to a phone `login`.
    `username`, `is_active` and `profile` are the Open edX fields (checked by profiles.py)."""
    problem = password_problem(password)
    if problem:
        raise Invalid(problem, {"password": [problem]})
    login_id, email, phone = normalise_login_id(login)
    if not full_name.strip() or "\x00" in full_name:
        raise Invalid("A full_name is required.", {"full_name": ["Required."]})
    contact_fields = {"phone": phone, "channel": "sms", "timezone": "UTC",
                      **clean_profile({**(contact or {}), "full_name": full_name})}
    imported = db.session.scalar(select(LearnerAccount).where(
        LearnerAccount.partner_id == partner.id, LearnerAccount.login_id == login_id,
        LearnerAccount.password_hash == NO_PASSWORD))
    if imported is not None:
        return _claim_imported(imported, password=password, source=source, now=now, rounds=rounds,
                               profile=contact_fields, contact=contact or {})
    account = LearnerAccount(partner_id=partner.id, login_id=login_id, email=email,
                             password_hash=hash_password(password, rounds), source=source.strip(),
                             idp_user_id=str(uuid.uuid4()), created_at=now, updated_at=now,
                             username=username, is_active=is_active, profile=dict(profile or {}),
                             **contact_fields)
    with transaction("A user with this id already exists.", {"id": ["Already registered."]}):
        db.session.add(account)
        db.session.flush()
        webhooks.record_event("student.created", {
            "student_id": account.id, "name": account.full_name, "email": account.email,
            "phone": account.phone}, author_id=None, partner_ids=[partner.id], now=now,
            livemode=partner.livemode)
    return account


def _claim_imported(account: LearnerAccount, *, password: str, source: str, now: datetime, rounds: int,
                    profile: dict, contact: dict) -> LearnerAccount:
    """Signup for an account a bulk import made: it gets its password and the name given;
    phone, channel and timezone change only where signup names them. Its `student.created`
    event went out at the import. Two signups at once: the first sets the password, the other
    is the usual 409."""
    fields = {"full_name": profile["full_name"], "password_hash": hash_password(password, rounds),
              "updated_at": now, **({"source": source.strip()} if source.strip() else {}),
              **{name: profile[name] for name in ("phone", "channel", "timezone") if contact.get(name)}}
    with transaction():
        claimed = db.session.execute(update(LearnerAccount).where(
            LearnerAccount.id == account.id, LearnerAccount.password_hash == NO_PASSWORD).values(**fields))
        if claimed.rowcount != 1:
            raise Conflict("A user with this id already exists.", {"id": ["Already registered."]})
    db.session.refresh(account)
    return account


def _start_session(account: LearnerAccount, now: datetime, ttl: timedelta) -> tuple[LearnerSession, str]:
    access_token = str(uuid.uuid4())
    session = LearnerSession(id=str(uuid.uuid4()), account_id=account.id,
                             access_token_hash=_sha256(access_token), created_at=now,
                             expires_at=now + ttl)
    db.session.add(session)
    return session, access_token


def open_session(account: LearnerAccount, *, now: datetime, ttl: timedelta) -> tuple[LearnerSession, str]:
    """A token pair for a learner who just signed up."""
    session, access_token = _start_session(account, now, ttl)
    db.session.commit()
    return session, access_token


def check_login(partner: Partner, *, login: str, password: str, now: datetime) -> LearnerAccount:
    """The partner's learner with this login id and password, unless either is wrong or the id
    failed too often (RateLimited). Used by `login` and by "Log in with Ekatra" (ekatra/oauth).

    Failures are counted per (partner, login id) in the database, so every web process sees
    them: the 6th attempt within 15 minutes of 5 failures is a 429, even with the right
    password. An attempt counts as a failure from before its check until it succeeds (then
    the id's failures are cleared), so parallel attempts cannot outrun the count."""
    login_id = login.strip()[:254]
    with contextlib.suppress(Invalid):  # an id that is no email or phone simply fails to log in
        login_id = normalise_login_id(login)[0]
    # Each attempt is recorded as a failure before its password is checked, counting and
    # recording in turn with every other attempt on this id: of ten at once, five are checked.
    with transaction():
        lock_name(f"learner-login:{partner.id}:{login_id}")
        failures = db.session.scalar(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.partner_id == partner.id, LoginFailure.login_id == login_id,
            LoginFailure.failed_at > now - FAILED_LOGIN_WINDOW))
        if failures >= MAX_FAILED_LOGINS:
            raise RateLimited("Too many failed logins for this user; try again in 15 minutes.")
        db.session.add(LoginFailure(partner_id=partner.id, login_id=login_id, failed_at=now))
    account = db.session.scalar(select(LearnerAccount).where(
        LearnerAccount.partner_id == partner.id, LearnerAccount.login_id == login_id))
    # An imported account without a password yet logs in with none (as an unknown id would not).
    stored_hash = account.password_hash if account and account.password_hash != NO_PASSWORD else None
    if not check_password(password, stored_hash) or account is None or stored_hash is None:
        raise Unauthorized("Either id or password is incorrect.")  # its failure is recorded
    with transaction():
        db.session.execute(delete(LoginFailure).where(LoginFailure.partner_id == partner.id,
                                                      LoginFailure.login_id == login_id))
    return account


def login(partner: Partner, *, login: str, password: str, now: datetime,
          ttl: timedelta) -> tuple[LearnerAccount, LearnerSession, str]:
    """A new session for the account, unless the password is wrong or failed too often
    (`check_login`)."""
    account = check_login(partner, login=login, password=password, now=now)
    session, access_token = _start_session(account, now, ttl)
    db.session.commit()
    return account, session, access_token


def _active_session(partner: Partner, session_id: str, access_token: str,
                    now: datetime) -> LearnerSession:
    session = db.session.get(LearnerSession, session_id) if session_id else None
    account = db.session.get(LearnerAccount, session.account_id) if session else None
    if (session is None or account is None or account.partner_id != partner.id
            or session.revoked_at is not None or session.expires_at <= now
            or not hmac.compare_digest(_sha256(access_token or ""), session.access_token_hash)):
        raise Unauthorized("The jwt_token and access_token are expired, revoked or do not match.")
    return session


def learner_for_tokens(partner: Partner, session_id: str, access_token: str,
                       now: datetime) -> LearnerAccount:
    """The learner whose (unexpired, unrevoked) token pair this is."""
    return db.session.get(LearnerAccount, _active_session(partner, session_id, access_token, now).account_id)


def renew_session(partner: Partner, session_id: str, access_token: str, *, now: datetime,
                  ttl: timedelta) -> tuple[LearnerAccount, LearnerSession, str]:
    """Validate a token pair and exchange it for a fresh one (the old pair stops working)."""
    old = _active_session(partner, session_id, access_token, now)
    with transaction():
        revoked = db.session.execute(update(LearnerSession).where(
            LearnerSession.id == old.id, LearnerSession.revoked_at.is_(None)).values(revoked_at=now))
        if revoked.rowcount != 1:  # a concurrent validation renewed it first
            raise Unauthorized("The jwt_token and access_token were already exchanged.")
        account = db.session.get(LearnerAccount, old.account_id)
        session, token = _start_session(account, now, ttl)
    return account, session, token


def find_account(partner: Partner, account_id: int) -> LearnerAccount:
    """One of this partner's learners; anyone else's is not found either."""
    account = db.session.get(LearnerAccount, account_id) if 0 < account_id <= MAX_ID else None
    if account is None or account.partner_id != partner.id:
        raise NotFound(USER_NOT_FOUND)
    return account


def linked_students(account_id: int) -> list[Student]:
    """The students a learner became by applying coupons."""
    return list(db.session.scalars(select(Student).join(Coupon, Coupon.student_id == Student.id)
                                   .where(Coupon.used_by_id == account_id)))


def update_account(partner: Partner, account_id: int, fields: dict, *, now: datetime) -> LearnerAccount:
    """Set phone (E.164), channel, timezone or name; the learner's students follow."""
    account = find_account(partner, account_id)
    with transaction(PHONE_TAKEN, {"phone": ["Already in a group this user is in."]}):
        for name, value in clean_profile(fields).items():
            setattr(account, name, value)
        students_follow(account, now)
    return account


PHONE_TAKEN = "Another learner in one of this user's groups has that phone."


def students_follow(account: LearnerAccount, now: datetime) -> None:
    """The account changed: its students take its name, phone, channel and timezone (in the
    caller's transaction)."""
    account.updated_at = now
    for student in linked_students(account.id):
        student.name, student.channel = account.full_name, account.channel
        student.timezone = account.timezone
        if account.phone:
            student.phone, student.country_code = account.phone, calling_code(account.phone)
        student.updated_at = now


def accounts_by_email(partner: Partner, emails: list[str]) -> dict[str, LearnerAccount | None]:
    """Each asked-for email → this partner's account with it (or None)."""
    folded = {email: email.strip().casefold() for email in emails}
    found = {account.email: account for account in db.session.scalars(select(LearnerAccount).where(
        LearnerAccount.partner_id == partner.id, LearnerAccount.email.in_(set(folded.values()))))}
    return {email: found.get(key) for email, key in folded.items()}
