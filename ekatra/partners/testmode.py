"""Test mode: what a test partner (keys `pk_test_…`) may reach, so that live and test never mix.

Where the mode is kept, and why there: a partner has `livemode`; its learner accounts, coupon
batches and coupons take their partner's mode through `partner_id` (none of them changes
partner), and a learner's enrollments take it through their student. The one copy is
`students.livemode`, set when a coupon makes the student: the planner, the outbox, replies and
opt-outs sit below `partners` and read the mode from the student (and the outbox, from the
message row it is copied to when queued, so that a claim joins nothing), never by asking us.

The rules (each a 409 `Conflict` with the reason):

- a delivery is a *test delivery* while it is shared with a test partner; it is shared with
  partners of one mode only;
- a test learner enrols only in a test delivery, a live learner never in one (an author's own
  coupons included);
- a test partner sees nothing else: deliveries, coupons and learners are found through the
  partner (sharing, `partner_id`) as for any partner.

The author's own students in a test delivery's group (a delivery needs one to start) stay the
author's live learners: what reaches a phone is decided per student, so a test learner's
messages go to the sandbox whichever delivery they are in, and a live student's go out live.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from ekatra.deliveries.models import Delivery
from ekatra.errors import Conflict
from ekatra.extensions import db
from ekatra.partners.models import DeliveryPartner, Partner

MIXED_SHARING = "A delivery is shared with live partners or with test partners, never with both."
TEST_LEARNER_LIVE_DELIVERY = ("A test learner enrols only in a delivery shared with a test partner "
                              "(its messages go to the sandbox).")
LIVE_LEARNER_TEST_DELIVERY = "This delivery is a test delivery: it takes no live learners."


def is_test_delivery(delivery_id):
    """A SQL condition (or its value): the delivery is shared with a test partner."""
    return exists().where(DeliveryPartner.delivery_id == delivery_id,
                          DeliveryPartner.partner_id == Partner.id, Partner.livemode.is_(False))


def _shared_with_mode(delivery_id: int, livemode: bool) -> bool:
    return bool(db.session.scalar(select(exists().where(
        DeliveryPartner.delivery_id == delivery_id, DeliveryPartner.partner_id == Partner.id,
        Partner.livemode.is_(livemode)))))


def check_sharing(delivery: Delivery, partner: Partner) -> None:
    """Refuse sharing the delivery with a partner of the other mode than its partners'."""
    if _shared_with_mode(delivery.id, not partner.livemode):
        raise Conflict(MIXED_SHARING, {"access_key": [MIXED_SHARING]})


def check_enrolment(livemode: bool, delivery: Delivery) -> None:
    """Refuse enrolling a learner of this mode in the delivery (see the module docstring)."""
    is_test = bool(db.session.scalar(select(is_test_delivery(delivery.id))))
    if not livemode and not is_test:
        raise Conflict(TEST_LEARNER_LIVE_DELIVERY, {"coupon_code": [TEST_LEARNER_LIVE_DELIVERY]})
    if livemode and is_test:
        raise Conflict(LIVE_LEARNER_TEST_DELIVERY, {"coupon_code": [LIVE_LEARNER_TEST_DELIVERY]})
