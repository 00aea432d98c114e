"""Deliveries an author shares with partners: the only deliveries a partner sees.

A partner generates coupons for a delivery, lists or cancels its coupons, and reads its
learners' progress and certificates in it only while the delivery's author shares it with
that partner. Unshared (or another author's, or unknown), the delivery is a 404 to the
partner, and the partner's coupons for it stop enrolling (sharing again revives them).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError

from ekatra.auth.services import Actor
from ekatra.deliveries.models import Delivery
from ekatra.deliveries.services import DELIVERY_NOT_FOUND, find_delivery
from ekatra.errors import NotFound
from ekatra.extensions import MAX_ID, db
from ekatra.partners.locks import locked_delivery
from ekatra.partners.models import DeliveryPartner, Partner
from ekatra.partners.testmode import check_sharing
from ekatra.transactions import transaction

PARTNER_NOT_FOUND = "No partner has this access key."
NOT_SHARED = "This delivery is not shared with that partner."


@dataclass(frozen=True)
class SharedPartner:
    partner_id: int
    name: str
    shared_at: datetime


def partners_of(actor: Actor, delivery_id: int) -> list[SharedPartner]:
    """The partners the actor's delivery is shared with, in the order it was shared."""
    delivery = find_delivery(actor, delivery_id)
    rows = db.session.execute(
        select(Partner.id, Partner.name, DeliveryPartner.shared_at)
        .join(DeliveryPartner, DeliveryPartner.partner_id == Partner.id)
        .where(DeliveryPartner.delivery_id == delivery.id)
        .order_by(DeliveryPartner.shared_at, Partner.id)).all()
    return [SharedPartner(*row) for row in rows]


def share(actor: Actor, delivery_id: int, access_key: str, *, now: datetime) -> list[SharedPartner]:
    """Share the actor's delivery with the partner of this access key (again: no change).

    The author names the partner by its access key (which the partner hands over; never its
    secret): partner ids count up, and would let any author list partner names. A delivery is
    shared with partners of one mode only (`testmode.check_sharing`)."""
    delivery = find_delivery(actor, delivery_id)
    partner = db.session.scalar(select(Partner).where(Partner.access_key == access_key.strip()))
    if partner is None:
        raise NotFound(PARTNER_NOT_FOUND, {"access_key": [PARTNER_NOT_FOUND]})
    if db.session.get(DeliveryPartner, (delivery.id, partner.id)) is None:
        with contextlib.suppress(IntegrityError), transaction():  # shared concurrently: the same outcome
            locked_delivery(delivery.id)  # sharing and enrolling take turns: the mode check holds
            check_sharing(delivery, partner)
            db.session.add(DeliveryPartner(delivery_id=delivery.id, partner_id=partner.id,
                                           shared_by_id=actor.author_id, shared_at=now))
    return partners_of(actor, delivery.id)


def unshare(actor: Actor, delivery_id: int, partner_id: int) -> list[SharedPartner]:
    """Stop sharing the actor's delivery with a partner; its learners stay enrolled."""
    delivery = find_delivery(actor, delivery_id)
    if not 0 < partner_id <= MAX_ID:
        raise NotFound(NOT_SHARED)
    with transaction():
        removed = db.session.execute(delete(DeliveryPartner).where(
            DeliveryPartner.delivery_id == delivery.id, DeliveryPartner.partner_id == partner_id))
        if removed.rowcount != 1:
            raise NotFound(NOT_SHARED)
    return partners_of(actor, delivery.id)


def is_shared(delivery_id, partner_id):
    """A SQL condition (or its columns' values): the delivery is shared with the partner."""
    return exists().where(DeliveryPartner.delivery_id == delivery_id,
                          DeliveryPartner.partner_id == partner_id)


def shared_delivery(partner: Partner, delivery_id: int) -> Delivery:
    """A delivery shared with this partner; any other is not found."""
    delivery = None
    if 0 < delivery_id <= MAX_ID:
        delivery = db.session.scalar(select(Delivery).where(
            Delivery.id == delivery_id, is_shared(Delivery.id, partner.id)))
    if delivery is None:
        raise NotFound(DELIVERY_NOT_FOUND)
    return delivery
