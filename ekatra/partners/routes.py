"""/api/partner: the SkillsTrainer-style partner API (key headers), and authors' coupon routes."""

from __future__ import annotations

from flask import current_app, g, render_template_string, request
from flask.views import MethodView
from marshmallow import RAISE

from ekatra import clock
from ekatra.auth.tokens import author_required, current_actor
from ekatra.errors import Forbidden
from ekatra.http import PUBLIC, Blueprint
from ekatra.partners import certificates, coupons, learners, services, shapes, sharing
from ekatra.partners.schemas import (
    ApplyCouponResultSchema,
    ApplyCouponSchema,
    CertificateSchema,
    CompleteCourseResultSchema,
    CompleteCourseSchema,
    CouponCreateSchema,
    CouponListSchema,
    CouponQueryArgsSchema,
    CouponSchema,
    DbUserSchema,
    DeleteUsersResultSchema,
    DeleteUsersSchema,
    DeliveryShareSchema,
    LearnerLoginSchema,
    LearnerSignupSchema,
    MoodleCoursesSchema,
    PartnerCouponCreateSchema,
    PartnerCreateSchema,
    PartnerKeysSchema,
    SharedPartnerListSchema,
    TokensSchema,
    UserDetailsListSchema,
    UserDetailsQuerySchema,
    UserIdSchema,
    UserUpdateSchema,
    ValidatedTokensSchema,
)
from ekatra.partners.tokens import (
    PARTNER_KEYS,
    current_learner,
    issue,
    partner_required,
    session_ttl,
    token_pair,
)

blp = Blueprint("partners", __name__,
                description="Partner API (ST-ACCESS-KEY / ST-SECRET-KEY): learners, coupons, progress")

LEARNER_HEADERS = [
    {"in": "header", "name": "jwt_token", "required": True, "schema": {"type": "string"},
     "description": "The learner's `jwt_token` from signup, login or validate_cookie "
                    "(or send it as `jwt-token`; both with different values is a 400)."},
    {"in": "header", "name": "access_token", "required": True, "schema": {"type": "string"},
     "description": "The learner's `access_token` from the same response (or `access-token`)."},
]
CONTACT_FIELDS = ("phone", "country_code", "channel", "timezone")


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def _rounds() -> int:
    return current_app.config["BCRYPT_ROUNDS"]


@blp.route("/api/partner/partners")
class Partners(MethodView):
    @blp.arguments(PartnerCreateSchema)
    @blp.response(201, PartnerKeysSchema)
    @blp.alt_response(403, description="Only admins create partners")
    @author_required()
    def post(self, body):
        """Create a partner and its keys (admins only; the secret is shown once)"""
        if not current_actor().is_admin:
            raise Forbidden("Only admins create partners.")
        keys = services.create_partner(name=body["name"], now=clock.now(), livemode=body["livemode"])
        return {"id": keys.partner.id, "name": keys.partner.name, "livemode": keys.partner.livemode,
                "access_key": keys.access_key,
                "secret_key": keys.secret_key}


@blp.route("/api/partner/signup")
class Signup(MethodView):
    @blp.doc(security=PARTNER_KEYS)
    @blp.arguments(LearnerSignupSchema, example={"full_name": "Asha Rao", "id": "asha@example.org",
                                          "password": "correct horse", "source": "Acme LMS",
                                          "phone": "+919812345678", "timezone": "Asia/Kolkata"})
    @blp.response(200, TokensSchema)
    @blp.alt_response(409, description="A user with this id exists")
    @partner_required
    def post(self, body):
        """Create a learner account: profile and tokens"""
        account = services.signup(g.partner, login=body["id"], full_name=body["full_name"],
                                  password=body["password"], source=body["source"], now=clock.now(),
                                  rounds=_rounds(),
                                  contact={name: body[name] for name in CONTACT_FIELDS if name in body})
        session, access_token = services.open_session(account, now=clock.now(), ttl=session_ttl())
        return shapes.tokens(account, issue(session, access_token), _base_url(), with_user=False)


@blp.route("/api/partner/login")
class Login(MethodView):
    @blp.doc(security=PARTNER_KEYS)
    @blp.arguments(LearnerLoginSchema, example={"id": "asha@example.org", "password": "correct horse"})
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, description="Wrong id or password")
    @blp.alt_response(429, description="5 failed logins for this id in 15 minutes")
    @partner_required
    def post(self, body):
        """Log a learner in: profile and tokens"""
        account, session, access_token = services.login(
            g.partner, login=body["id"], password=body["password"], now=clock.now(), ttl=session_ttl())
        return shapes.tokens(account, issue(session, access_token), _base_url())


@blp.route("/api/partner/validate_cookie")
class ValidateCookie(MethodView):
    @blp.doc(security=PARTNER_KEYS, parameters=LEARNER_HEADERS)
    @blp.response(200, ValidatedTokensSchema)
    @blp.alt_response(401, description="Expired, revoked or mismatched tokens")
    @partner_required
    def post(self):
        """Validate a learner's tokens and exchange them for fresh ones"""
        session_id, access_token = token_pair()
        account, session, token = services.renew_session(g.partner, session_id, access_token,
                                                         now=clock.now(), ttl=session_ttl())
        return {"data": shapes.tokens(account, issue(session, token), _base_url()), "success": True}


@blp.route("/api/partner/users/<int:user_id>")
class UserById(MethodView):
    @blp.doc(security=PARTNER_KEYS)
    @blp.arguments(UserUpdateSchema, example={"phone": "+919812345678", "channel": "whatsapp",
                                              "timezone": "Asia/Kolkata"})
    @blp.response(200, DbUserSchema)
    @blp.alt_response(404, description="Not one of this partner's users")
    @partner_required
    def patch(self, body, user_id):
        """Set a learner's phone, channel, timezone or name"""
        return shapes.db_user(services.update_account(g.partner, user_id, body, now=clock.now()))


@blp.route("/api/partner/coupons")
class PartnerCoupons(MethodView):
    @blp.doc(security=PARTNER_KEYS)
    @blp.arguments(CouponQueryArgsSchema, location="query", unknown=RAISE)  # webargs EXCLUDEs in queries
    @blp.response(200, CouponListSchema)
    @blp.alt_response(404, description="The delivery is unknown or not shared with this partner")
    @partner_required
    def get(self, args):
        """List this partner's coupons and their state"""
        issuer = coupons.Issuer(partner=g.partner)
        return {"data": [shapes.coupon(c) for c in coupons.list_coupons(issuer, args.get("delivery_id"))],
                "success": True}

    @blp.doc(security=PARTNER_KEYS)
    @blp.arguments(PartnerCouponCreateSchema, example={"delivery_id": 1, "count": 10, "note": "March batch"})
    @blp.response(201, CouponListSchema)
    @blp.alt_response(404, description="The delivery is unknown or not shared with this partner")
    @partner_required
    def post(self, body):
        """Generate coupons for a delivery"""
        batch = coupons.generate(coupons.Issuer(partner=g.partner), body.pop("delivery_id"), **body,
                                 now=clock.now())
        return {"data": [shapes.coupon(c) for c in batch.coupons], "success": True}


@blp.route("/api/partner/coupons/<string:code>/<any(cancel, restore):action>")
class PartnerCouponAction(MethodView):
    @blp.doc(security=PARTNER_KEYS)
    @blp.response(200, CouponSchema)
    @blp.alt_response(404, description="Not one of this partner's coupons")
    @blp.alt_response(409, description="Already cancelled (cancel) or not cancelled (restore)")
    @partner_required
    def post(self, code, action):
        """Cancel a coupon (a used one withdraws its learner) or restore a cancelled one"""
        change = coupons.cancel if action == "cancel" else coupons.restore
        return shapes.coupon(change(coupons.Issuer(partner=g.partner), code, now=clock.now()))


@blp.route("/api/delivery/<int:delivery_id>/coupons")
class DeliveryCoupons(MethodView):
    @blp.response(200, CouponListSchema)
    @author_required()
    def get(self, delivery_id):
        """List a delivery's coupons and their state"""
        issuer = coupons.Issuer(actor=current_actor())
        return {"data": [shapes.coupon(c) for c in coupons.list_coupons(issuer, delivery_id)],
                "success": True}

    @blp.arguments(CouponCreateSchema, example={"count": 10, "note": "Walk-in learners"})
    @blp.response(201, CouponListSchema)
    @author_required()
    def post(self, body, delivery_id):
        """Generate coupons for a delivery"""
        batch = coupons.generate(coupons.Issuer(actor=current_actor()), delivery_id, **body, now=clock.now())
        return {"data": [shapes.coupon(c) for c in batch.coupons], "success": True}


@blp.route("/api/delivery/<int:delivery_id>/partners")
class DeliveryPartners(MethodView):
    @blp.response(200, SharedPartnerListSchema)
    @blp.alt_response(404, description="Unknown delivery, or another author's")
    @author_required()
    def get(self, delivery_id):
        """The partners a delivery is shared with"""
        return {"data": sharing.partners_of(current_actor(), delivery_id), "success": True}

    @blp.arguments(DeliveryShareSchema, example={"access_key": "pk_0123456789abcdef0123456789abcdef"})
    @blp.response(200, SharedPartnerListSchema)
    @blp.alt_response(404, description="Unknown delivery or access key, or another author's delivery")
    @author_required()
    def post(self, body, delivery_id):
        """Share a delivery with a partner: it may then generate coupons and follow its learners"""
        shared = sharing.share(current_actor(), delivery_id, body["access_key"], now=clock.now())
        return {"data": shared, "success": True}


@blp.route("/api/delivery/<int:delivery_id>/partners/<int:partner_id>")
class DeliveryPartnerById(MethodView):
    @blp.response(200, SharedPartnerListSchema)
    @blp.alt_response(404, description="Unknown delivery, another author's, or not shared with this partner")
    @author_required()
    def delete(self, delivery_id, partner_id):
        """Stop sharing a delivery with a partner (its coupons stop enrolling; learners stay)"""
        return {"data": sharing.unshare(current_actor(), delivery_id, partner_id), "success": True}


@blp.route("/api/delivery/<int:delivery_id>/coupons/<string:code>/<any(cancel, restore):action>")
class DeliveryCouponAction(MethodView):
    @blp.response(200, CouponSchema)
    @blp.alt_response(404, description="Unknown coupon or delivery")
    @blp.alt_response(409, description="Already cancelled (cancel) or not cancelled (restore)")
    @author_required()
    def post(self, delivery_id, code, action):
        """Cancel a coupon (a used one withdraws its learner) or restore a cancelled one"""
        change = coupons.cancel if action == "cancel" else coupons.restore
        return shapes.coupon(change(coupons.Issuer(actor=current_actor()), code, now=clock.now(),
                                    delivery_id=delivery_id))


@blp.route("/api/partner/apply_coupon")
class ApplyCoupon(MethodView):
    @blp.doc(security=PARTNER_KEYS, parameters=LEARNER_HEADERS)
    @blp.arguments(ApplyCouponSchema, example={"coupon_code": "7KQ3M-XH9PC"})
    @blp.response(200, ApplyCouponResultSchema)
    @blp.alt_response(400, description="Unknown or expired code, or the user has no phone")
    @blp.alt_response(409, description="Used or cancelled code, full or stopped delivery, already enrolled")
    @partner_required
    def post(self, body):
        """Enrol the learner (tokens in the headers) with a coupon"""
        coupon = coupons.apply(current_learner(), body["coupon_code"], now=clock.now())
        return {"success": True, "data": {"id": coupon.id}}


@blp.route("/api/partner/get_moodle_courses_for_user")
@blp.route("/api/partner/get_courses_for_user", endpoint="CoursesForUser")
class MoodleCoursesForUser(MethodView):
    @blp.doc(security=PARTNER_KEYS)
    @blp.arguments(UserIdSchema, example={"user_id": 28})
    @blp.response(200, MoodleCoursesSchema)
    @partner_required
    def post(self, body):
        """A learner's courses with progress (Moodle's course fields; both paths are the same)"""
        progress = learners.course_progress(g.partner, body["user_id"])
        return {"data": [shapes.moodle_course(item) for item in progress], "success": True}


@blp.route("/api/partner/delete_users")
class DeleteUsers(MethodView):
    @blp.doc(security=PARTNER_KEYS)
    @blp.arguments(DeleteUsersSchema, example={"user_ids": [28, 29, 31]})
    @blp.response(200, DeleteUsersResultSchema)
    @partner_required
    def post(self, body):
        """Delete learners and everything personal on them (rows per table)"""
        counts, users = learners.delete_accounts(g.partner, body["user_ids"])
        return {"data": {"deletion_response": {f"delete_{table}": {"affected_rows": rows}
                                               for table, rows in counts.items()},
                         "users": users}, "success": True}


@blp.route("/api/partner/get_user_details")
class UserDetails(MethodView):
    @blp.doc(security=PARTNER_KEYS)
    @blp.arguments(UserDetailsQuerySchema, example={"user_emails": ["asha@example.org"]})
    @blp.response(200, UserDetailsListSchema)
    @partner_required
    def post(self, body):
        """Registration details of learners by email"""
        found = services.accounts_by_email(g.partner, body["user_emails"])
        return {"data": [shapes.user_details(email, account, _base_url())
                         for email, account in found.items()], "success": True}


@blp.route("/api/partner/complete_course")
class CompleteCourse(MethodView):
    @blp.doc(security=PARTNER_KEYS)
    @blp.arguments(CompleteCourseSchema, example={"access_secret": "<secret>", "user_id": 28, "course_id": 1,
                                                  "force_complete": True})
    @blp.response(200, CompleteCourseResultSchema)
    @blp.alt_response(404, description="Not this partner's user, or the user is not enrolled in the course")
    @blp.alt_response(409, description="Days still to come, or below the pass mark (without force_complete)")
    @partner_required
    def post(self, body):
        """Issue (or fetch) a learner's course certificate: a download link to the PDF"""
        certificate = certificates.complete_course(
            g.partner, body["user_id"], body["course_id"], force=body["force_complete"], now=clock.now(),
            base_url=_base_url())
        return {"success": True, "serial": certificate.serial,
                "download_link": certificates.download_url(_base_url(), certificate.serial),
                "verification_link": certificates.verification_url(_base_url(), certificate.serial)}


VERIFICATION_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Certificate {{ c.serial }}</title>
</head><body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Valid certificate</h1><p><strong>{{ c.learner_name }}</strong> completed
<strong>{{ c.course_name }}</strong> on {{ c.issued_at.strftime("%d %B %Y") }}.</p>
<p>Serial {{ c.serial }}. <a href="{{ pdf }}">Download the PDF</a>.</p></body></html>"""


@blp.route("/certificates/<string:serial>")
class CertificateVerification(MethodView):
    @blp.doc(security=PUBLIC, description="HTML for people; JSON with `Accept: application/json`.")
    @blp.response(200, CertificateSchema, content_type="application/json")
    @blp.alt_response(404, description="No certificate has this serial")
    def get(self, serial):
        """Verify a certificate (the page its QR code opens)"""
        if serial.endswith(".pdf"):
            certificate = certificates.find_certificate(serial[:-4])
            return current_app.response_class(
                certificate.pdf, mimetype="application/pdf",
                headers={"Content-Disposition": f'inline; filename="certificate-{certificate.serial}.pdf"'})
        certificate = certificates.find_certificate(serial)
        pdf = certificates.download_url(_base_url(), certificate.serial)
        if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "text/html":
            page = render_template_string(VERIFICATION_PAGE, c=certificate, pdf=pdf)
            return current_app.response_class(page, mimetype="text/html")
        return {"valid": True, "serial": certificate.serial, "learner_name": certificate.learner_name,
                "course_name": certificate.course_name, "issued_at": certificate.issued_at,
                "download_link": pdf}
