"""The partners' answers to `webhooks.audience`: whose learner a group student is (the coupon
that enrolled them), and which partners a delivery is shared with."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from ekatra.deliveries.models import Delivery, Enrollment
from ekatra.extensions import db
from ekatra.outbox.models import Message
from ekatra.partners.models import USED, Coupon, DeliveryPartner, LearnerAccount, Partner
from ekatra.partners.testmode import is_test_delivery
from ekatra.webhooks.audience import Audience, Learner


class PartnerAudience(Audience):
    def learners(self, student_ids: Iterable[int]) -> dict[int, Learner]:
        ids = list(student_ids)
        if not ids:
            return {}
        rows = db.session.execute(
            select(Coupon.student_id, LearnerAccount.partner_id, LearnerAccount.id, Partner.livemode)
            .join(LearnerAccount, LearnerAccount.id == Coupon.used_by_id)
            .join(Partner, Partner.id == LearnerAccount.partner_id)
            .where(Coupon.student_id.in_(ids), Coupon.state == USED))
        return {student_id: Learner(partner_id, account_id, livemode)
                for student_id, partner_id, account_id, livemode in rows}

    def sharing(self, delivery_id: int) -> list[int]:
        return list(db.session.scalars(select(DeliveryPartner.partner_id)
                                       .where(DeliveryPartner.delivery_id == delivery_id)))

    def delivery_livemode(self, delivery_id: int) -> bool:
        return not db.session.scalar(select(is_test_delivery(delivery_id)))

    def failed_messages(self, message_ids: list[int]) -> list[tuple[int | None, int | None, dict]]:
        rows = db.session.execute(
            select(Message.id, Message.delivery_id, Message.provider_error_code,
                   Message.provider_error_message, Enrollment.student_id, Delivery.owner_id,
                   Delivery.course_id)
            .join(Enrollment, Enrollment.id == Message.enrollment_id)
            .join(Delivery, Delivery.id == Message.delivery_id)
            .where(Message.id.in_(message_ids)).order_by(Message.id))
        return [(student_id, owner_id, {"message_id": message_id, "delivery_id": delivery_id,
                                        "course_id": course_id, "error_code": code, "error": text})
                for message_id, delivery_id, code, text, student_id, owner_id, course_id in rows]
