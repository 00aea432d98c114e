"""The contract's JSON shapes (SkillsTrainer's `db_user`, SCIM-style `user`, Moodle courses)."""

from __future__ import annotations

from datetime import datetime

from ekatra.partners.coupons import display_code
from ekatra.partners.learners import CourseProgress
from ekatra.partners.models import Coupon, LearnerAccount


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _epoch(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


def db_user(account: LearnerAccount) -> dict:
    return {"email": account.email, "id": account.id, "idp_user_id": account.idp_user_id,
            "is_email_verified": False, "is_mobile_number_verified": False,
            "mobile_number": account.phone, "name": account.full_name,
            "partner_id": account.partner_id, "source": account.source,
            "channel": account.channel, "timezone": account.timezone, "livemode": account.partner.livemode}


def idp_user(account: LearnerAccount, base_url: str) -> dict:
    given, _, _ = account.full_name.partition(" ")
    return {
        "emails": [account.email] if account.email else [],
        "id": account.idp_user_id,
        "meta": {"created": _iso(account.created_at), "lastModified": _iso(account.updated_at),
                 "location": f"{base_url}/api/partner/users/{account.id}", "resourceType": "User"},
        "name": {"familyName": account.full_name, "givenName": given},
        "phoneNumbers": [{"type": "mobile", "value": account.phone}] if account.phone else [],
        "roles": [{"display": "everyone"}],
        "userName": f"EKATRA/{account.login_id}",
    }


def tokens(account: LearnerAccount, pair: dict, base_url: str, *, with_user: bool = True) -> dict:
    body = {"access_token": pair["access_token"], "db_user": db_user(account),
            "jwt_token": pair["jwt_token"], "success": True}
    if with_user:
        body["user"] = idp_user(account, base_url)
    return body


def coupon(item: Coupon) -> dict:
    batch = item.batch
    return {"id": item.id, "code": display_code(item.code), "state": item.state,
            "delivery_id": batch.delivery_id, "batch_id": batch.id, "note": batch.note,
            "capacity": batch.capacity, "expires_at": batch.expires_at, "used_by": item.used_by_id,
            "used_at": item.used_at, "cancelled_at": item.cancelled_at, "created_at": item.created_at}


def moodle_course(item: CourseProgress) -> dict:
    course = item.course
    return {
        "id": course.id, "fullname": course.name, "displayname": course.name,
        "shortname": course.name, "summary": course.description, "summaryformat": 1,
        "lang": course.language, "format": "days", "category": 0,
        "progress": item.progress, "completed": item.is_finished,
        "startdate": _epoch(item.enrollment.created_at),
        "enddate": _epoch(item.delivery.completed_at or item.delivery.stopped_at),
        "lastaccess": _epoch(item.last_received_at), "enrolledusercount": item.enrolled_count,
        "enablecompletion": True, "completionhascriteria": True, "completionusertracked": True,
        "hidden": False, "visible": 1, "isfavourite": False, "showgrades": True, "marker": 0,
        "idnumber": str(item.delivery.id), "overviewfiles": [],
        "delivery_id": item.delivery.id, "days_received": item.days_received,
        "total_days": item.total_days,
    }


def user_details(email: str, account: LearnerAccount | None, base_url: str) -> dict:
    if account is None:
        return {"db_user": None, "email": email, "idp_user": None}
    user = {**db_user(account), "idp_user_name": f"EKATRA/{account.login_id}"}
    return {"db_user": user, "email": email,
            "idp_user": {**idp_user(account, base_url), "is_associated_to_db_user": True}}
