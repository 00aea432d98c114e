"""Appsembler account use cases over the partner's learner accounts: create (with or without
a password), connect, update, look up, and the set-password links of passwordless accounts.

Mail (and, for a learner with a phone, an SMS through the outbox) goes out only for what was
committed: texts are queued in the use case's transaction, mails sent after its commit by the
app's mailer; a mail that fails is logged without its body (the body holds a link that is a
password) and the account stands.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from ekatra.appsembler.errors import ApiError
from ekatra.appsembler.models import PasswordLink
from ekatra.errors import Conflict, DomainError, Invalid, NotFound
from ekatra.extensions import db
from ekatra.outbox import services as outbox
from ekatra.outbox.optouts import is_opted_out
from ekatra.partners import profiles
from ekatra.partners import services as partners
from ekatra.partners.models import LearnerAccount, Partner
from ekatra.transactions import transaction

log = logging.getLogger(__name__)

TOKEN_BYTES = 32
USER_EXISTS = ApiError(409, {"user_message": "User already exists"})
SET_PASSWORD_PATH = "/appsembler/set-password/"
USER_NOT_FOUND = "The user for the Given username or email doesn't exists"  # Open edX's words


@dataclass
class Settings:
    """What the use cases need from the app (the routes build it from the config)."""

    base_url: str
    partner_name: str = ""
    mailer: object = None
    link_ttl: timedelta = timedelta(days=7)
    bcrypt_rounds: int = 12
    mails: list = field(default_factory=list)  # (to, subject, body), sent after the commit

    def send_mails(self) -> None:
        pending, self.mails = self.mails, []
        for to, subject, body in pending:
            try:
                self.mailer.send(to, subject, body)
            except Exception:  # SMTP down: the learner can be sent a new link
                log.warning("learner account mail not sent: %r", subject)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def user_id_body(account_id: int) -> dict:
    """The contract's `{"user_id ": id}` (its key has a trailing space) and the plain key."""
    return {"user_id ": account_id, "user_id": account_id}


def _profile_of(fields: dict) -> dict:
    return profiles.clean_open_edx_profile({k: v for k, v in fields.items() if k in profiles.PROFILE_FIELDS})


def _contact_of(fields: dict) -> dict:
    return {name: fields[name] for name in ("phone", "country_code", "channel", "timezone")
            if fields.get(name) is not None}


def _create(partner: Partner, *, username: str, email: str, name: str, password: str, is_active: bool,
            fields: dict, settings: Settings, now: datetime, wrong: ApiError) -> LearnerAccount:
    try:
        username, email = profiles.check_username(username), profiles.check_email(email)
        profile = _profile_of(fields)
        if not name or not name.strip():
            raise Invalid("A name is required.")
        if profiles.account_exists(partner, email=email, username=username):
            raise USER_EXISTS
        return partners.signup(partner, login=email, full_name=name, password=password,
                               source="Appsembler API", now=now, rounds=settings.bcrypt_rounds,
                               contact=_contact_of(fields), username=username, is_active=is_active,
                               profile=profile)
    except ApiError:
        raise
    except Conflict:  # created concurrently: the unique constraints tripped
        raise USER_EXISTS from None
    except DomainError:
        raise wrong from None


def create_account(partner: Partner, *, username: str, password: str, email: str, name: str,
                   send_activation_email: bool, fields: dict, settings: Settings,
                   now: datetime) -> LearnerAccount:
    """An active account with the given username and password (accounts/create).

    `send_activation_email`: the learner is mailed that their account exists (it is active at
    once, as Open edX's API makes it; the mail carries no link)."""
    account = _create(partner, username=username, email=email, name=name, password=password,
                      is_active=True, fields=fields, settings=settings, now=now,
                      wrong=ApiError(400, {"user_message": "Wrong parameters on user creation"}))
    if send_activation_email:
        settings.mails.append((account.email, "Your learning account is ready", (
            f"Hello {account.full_name},\n\nYour account{_at(settings)} has been created. "
            f"Your username is {account.username}.\n")))
        settings.send_mails()
    return account


def _at(settings: Settings) -> str:
    return f" with {settings.partner_name}" if settings.partner_name else ""


def generated_username(partner: Partner, email: str) -> str:
    """The email's local part, cleaned to username characters, and four random digits
    (Open edX's `auto_generate_username`); another draw if the partner has it already."""
    base = re.sub(r"[^\w.+-]", "", email.partition("@")[0], flags=re.ASCII)[:24] or "user"
    for _ in range(10):
        username = f"{base}{secrets.randbelow(10_000):04d}"
        if not profiles.account_exists(partner, email=None, username=username):
            return username
    return f"{base[:12]}{secrets.token_hex(8)}"


def create_without_password(partner: Partner, *, email: str, name: str, fields: dict,
                            settings: Settings, now: datetime) -> LearnerAccount:
    """An inactive account with a generated username and a password nobody knows; the learner
    is sent a link to set their password (by mail, and by SMS if a phone was given), which
    makes the account active."""
    wrong = ApiError(400, {"user_message": "Wrong parameters on user creation"})
    try:
        email = profiles.check_email(email)
    except Invalid:
        raise wrong from None
    account = _create(partner, username=generated_username(partner, email), email=email, name=name,
                      password=profiles.unusable_password(), is_active=False, fields=fields,
                      settings=settings, now=now, wrong=wrong)
    send_password_link(account, settings=settings, now=now)
    return account


def send_password_link(account: LearnerAccount, *, settings: Settings, now: datetime) -> None:
    """A new set-password link for the account: mailed, and texted to its phone if it has one
    that has not opted out."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = f"{settings.base_url}{SET_PASSWORD_PATH}{token}"
    with transaction():
        db.session.add(PasswordLink(account_id=account.id, token_hash=_sha256(token), created_at=now,
                                    expires_at=now + settings.link_ttl))
        if account.phone and not is_opted_out(account.phone, account.channel):
            outbox.enqueue(outbox.NewMessage(
                channel=account.channel, to_phone=account.phone, part="set-password",
                body=f"{account.full_name}, your learning account{_at(settings)} is ready. "
                     f"Choose your password here: {link}"), now)
    if account.email:
        days = max(1, round(settings.link_ttl / timedelta(days=1)))
        settings.mails.append((account.email, "Set the password of your learning account", (
            f"Hello {account.full_name},\n\nAn account{_at(settings)} has been created for you "
            f"(username {account.username}). Choose your password to activate it:\n\n{link}\n\n"
            f"The link works once, for {days} day{'s' if days != 1 else ''}.\n")))
    settings.send_mails()


def _usable_link(token: str, now: datetime) -> PasswordLink:
    link = db.session.scalar(select(PasswordLink).where(PasswordLink.token_hash == _sha256(token or "")))
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise NotFound("This link is not valid, was used already, or has expired.")
    return link


def account_of_link(token: str, now: datetime) -> LearnerAccount:
    """The account a usable set-password link is for (else NotFound)."""
    return db.session.get(LearnerAccount, _usable_link(token, now).account_id)


def set_password_by_link(token: str, password: str, confirm: str, *, now: datetime,
                         rounds: int = 12) -> LearnerAccount:
    """Set the password with a usable link: the account becomes active and the link is used."""
    if password != confirm:
        raise Invalid("The two passwords differ.", {"confirm": ["The two passwords differ."]})
    with transaction():
        link = _usable_link(token, now)
        claimed = db.session.execute(
            PasswordLink.__table__.update().where(PasswordLink.id == link.id, PasswordLink.used_at.is_(None))
            .values(used_at=now)).rowcount
        if claimed != 1:  # used a moment ago by a concurrent request
            raise NotFound("This link is not valid, was used already, or has expired.")
        account = db.session.get(LearnerAccount, link.account_id)
        profiles.activate(account, password, rounds=rounds)
        account.updated_at = now
    return account


def connect(partner: Partner, *, username: str, email: str, password: str, name: str,
            now: datetime, rounds: int = 12) -> LearnerAccount:
    """Change an account's email, password or name (accounts/connect); empty values are left."""
    try:
        account = profiles.find_by_username(partner, username)
    except NotFound:
        raise ApiError(404, {"user_message": "User not found"}) from None
    email, password, name = (email or "").strip(), password or "", (name or "").strip()
    if email and email.casefold() != account.email:
        try:
            profiles.check_email(email)
        except Invalid:
            raise ApiError(409, {"user_message": "Invalid email format"}) from None
    edit = profiles.AccountEdit(email=email or None, password=password if password.strip() else None,
                                full_name=name or None)
    try:
        profiles.edit_account(account, edit, now=now, rounds=rounds)
    except Conflict as conflict:
        if conflict.errors and conflict.errors.get("email") == [profiles.EMAIL_TAKEN]:
            raise ApiError(409, {"user_message": f"The email {email} is in use by another user"}) from None
        raise ApiError(409, {"user_message": conflict.message}) from None
    except DomainError:
        raise ApiError(400, {"user_message": "Wrong parameters on user connection"}) from None
    return account


UPDATABLE = ("email", "name", *profiles.PROFILE_FIELDS, "phone", "country_code", "channel", "timezone")


def update_user(partner: Partner, fields: dict, *, now: datetime) -> str:
    """Update the account named by `user_lookup` (username or email); returns the contract's
    success text naming each updated field and its stored value."""
    lookup = fields.get("user_lookup")
    if not isinstance(lookup, str) or not lookup.strip():
        raise ApiError(400, {"lookup_error": "No user lookup has been provided"})
    try:
        account = profiles.find_by_lookup(partner, lookup)
    except NotFound:
        raise ApiError(404, {"user_not_found": USER_NOT_FOUND}) from None
    edit = profiles.AccountEdit(
        email=fields.get("email"), full_name=fields.get("name"),
        profile={name: fields[name] for name in profiles.PROFILE_FIELDS if name in fields},
        contact=_contact_of(fields))
    try:
        changed = profiles.edit_account(account, edit, now=now)
    except Conflict as conflict:
        if conflict.errors and conflict.errors.get("email") == [profiles.EMAIL_TAKEN]:
            raise ApiError(400, {"integrity_error": conflict.message}) from None
        raise
    shown = ", ".join(f"{name}={'' if value is None else value}" for name, value in changed.items())
    return f"The following fields has been updated: {shown}"
