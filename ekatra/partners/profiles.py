"""Open edX-style account fields of learner accounts: username, activation, profile, and the
edits the Appsembler API makes (email, password, name, profile, contact) in one transaction.

Profile fields and their accepted values are Open edX's (`UserProfile`): `country` an ISO 3166
alpha-2 code, `gender` m/f/o, `level_of_education` one of Open edX's codes, `year_of_birth` a
four-digit year, `language` a language code, and free texts (`city`, `goals`, `bio`,
`mailing_address`) of bounded length.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from ekatra.auth.passwords import hash_password, password_problem
from ekatra.errors import Conflict, Invalid, NotFound
from ekatra.extensions import db
from ekatra.partners.models import LearnerAccount, Partner
from ekatra.partners.services import PHONE_TAKEN, USER_NOT_FOUND, clean_profile, students_follow
from ekatra.transactions import transaction

USERNAME_MAX_CHARS = 30
_USERNAME = re.compile(r"[\w.@+-]{2,30}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
GENDERS = ("m", "f", "o")
LEVELS_OF_EDUCATION = ("p", "m", "b", "a", "hs", "jhs", "el", "none", "other")
TEXT_LIMITS = {"city": 255, "goals": 5000, "bio": 3000, "mailing_address": 2000}
PROFILE_FIELDS = ("level_of_education", "gender", "mailing_address", "city", "country", "goals",
                  "bio", "year_of_birth", "language")
EMAIL_TAKEN = "EMAIL_TAKEN"


def check_username(raw: str) -> str:
    """An Open edX username: 2 to 30 letters, digits and . @ + - _ ."""
    username = (raw or "").strip()
    if not _USERNAME.fullmatch(username):
        raise Invalid("Not a valid username.", {"username": [
            "2 to 30 letters, digits, or the characters . @ + - _ ."]})
    return username


def check_email(raw: str) -> str:
    email = (raw or "").strip().casefold()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise Invalid("Not a valid email address.", {"email": ["Enter a valid email address."]})
    return email


def clean_open_edx_profile(fields: dict) -> dict:
    """The Open edX profile fields present in `fields`, checked and normalised; Invalid names
    every bad one. An empty value (None or "") clears a field."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for name in PROFILE_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            clean[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            errors[name] = ["Must be text."]
            continue
        text = str(value).strip()
        if name == "country":
            if not re.fullmatch(r"[A-Za-z]{2}", text):
                errors[name] = ["A two-letter ISO country code, e.g. IN, ES, US."]
            text = text.upper()
        elif name == "gender":
            text = text.lower()
            if text not in GENDERS:
                errors[name] = [f"One of {', '.join(GENDERS)}."]
        elif name == "level_of_education":
            text = text.lower()
            if text not in LEVELS_OF_EDUCATION:
                errors[name] = [f"One of {', '.join(LEVELS_OF_EDUCATION)}."]
        elif name == "year_of_birth":
            if not re.fullmatch(r"\d{4}", text) or not 1900 <= int(text) <= 2100:
                errors[name] = ["A four-digit year."]
            else:
                clean[name] = int(text)
                continue
        elif name == "language":
            if not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?", text):
                errors[name] = ["A language code, e.g. es, en, hi."]
            text = text.lower()
        elif len(text) > TEXT_LIMITS[name] or "\x00" in text:
            errors[name] = [f"At most {TEXT_LIMITS[name]} characters."]
        clean[name] = text
    if errors:
        raise Invalid("Invalid profile fields.", errors)
    return clean


def unusable_password() -> str:
    """A password nobody knows, for an account whose learner sets their own by a link."""
    return secrets.token_urlsafe(32)


def find_by_username(partner: Partner, username: str) -> LearnerAccount:
    account = db.session.scalar(select(LearnerAccount).where(
        LearnerAccount.partner_id == partner.id, LearnerAccount.username == (username or "").strip()))
    if account is None:
        raise NotFound(USER_NOT_FOUND)
    return account


def find_by_lookup(partner: Partner, lookup: str) -> LearnerAccount:
    """This partner's account whose username or email is `lookup` (emails case-folded)."""
    text = (lookup or "").strip()
    account = db.session.scalar(select(LearnerAccount).where(
        LearnerAccount.partner_id == partner.id,
        or_(LearnerAccount.username == text, LearnerAccount.email == text.casefold()))
        .order_by(LearnerAccount.id).limit(1))
    if account is None:
        raise NotFound(USER_NOT_FOUND)
    return account


def account_exists(partner: Partner, *, email: str | None, username: str | None) -> bool:
    """Whether this partner has an account with this email (case-folded) or username."""
    conditions = []
    if email:
        conditions.append(LearnerAccount.email == email.strip().casefold())
        conditions.append(LearnerAccount.login_id == email.strip().casefold())
    if username:
        conditions.append(LearnerAccount.username == username.strip())
    if not conditions:
        return False
    return bool(db.session.scalar(select(func.count()).select_from(LearnerAccount).where(
        LearnerAccount.partner_id == partner.id, or_(*conditions))))


@dataclass(frozen=True)
class AccountEdit:
    """What to change on an account; None leaves a field as it is."""

    email: str | None = None
    password: str | None = None
    full_name: str | None = None
    profile: dict | None = None
    contact: dict | None = None


def edit_account(account: LearnerAccount, edit: AccountEdit, *, now: datetime,
                 rounds: int = 12) -> dict:
    """Apply `edit` in one transaction; returns the fields changed and their stored values
    (email, name, profile fields, contact fields), in that order.

    A new email that another of the partner's accounts has is a Conflict (errors name
    `EMAIL_TAKEN`); an account that logs in with its email logs in with the new one."""
    changed: dict = {}
    errors: dict = {}
    contact, profile, email = {}, {}, None
    try:
        contact = clean_profile({**(edit.contact or {}),
                                 **({"full_name": edit.full_name} if edit.full_name is not None else {})})
    except Invalid as problem:
        errors.update(problem.errors or {})
    try:
        profile = clean_open_edx_profile(edit.profile or {})
    except Invalid as problem:
        errors.update(problem.errors or {})
    try:
        email = check_email(edit.email) if edit.email is not None else None
    except Invalid as problem:
        errors.update(problem.errors or {})
    if edit.password is not None and password_problem(edit.password):
        errors["password"] = [password_problem(edit.password)]
    if errors:
        raise Invalid("Invalid user fields: " + ", ".join(errors) + ".", errors)
    if email is not None and email != account.email:
        others = select(LearnerAccount.id).where(
            LearnerAccount.partner_id == account.partner_id, LearnerAccount.id != account.id,
            or_(LearnerAccount.email == email, LearnerAccount.login_id == email))
        if db.session.scalar(others.limit(1)) is not None:
            raise Conflict(f"The email {email} is in use by another user", {"email": [EMAIL_TAKEN]})
    with transaction(PHONE_TAKEN, {"phone": ["Already in a group this user is in, or the email is "
                                             "another user's."]}):
        if email is not None and email != account.email:
            if account.login_id == account.email:
                account.login_id = email
            account.email = changed["email"] = email
        if edit.password is not None:
            account.password_hash = hash_password(edit.password, rounds)
        if "full_name" in contact:
            account.full_name = changed["name"] = contact.pop("full_name")
        if profile:
            account.profile = {**(account.profile or {}), **profile}
            changed.update(profile)
        for name, value in contact.items():
            if name != "country_code":
                setattr(account, name, value)
                changed[name] = value
        students_follow(account, now)
    return changed


def activate(account: LearnerAccount, password: str, *, rounds: int = 12) -> None:
    """Set the password the learner chose and make the account active (in the caller's
    transaction)."""
    problem = password_problem(password)
    if problem:
        raise Invalid(problem, {"password": [problem]})
    account.password_hash = hash_password(password, rounds)
    account.is_active = True
