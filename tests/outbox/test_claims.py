"""Claiming due messages: what is taken, in what order, and what is held back."""

from __future__ import annotations

from datetime import timedelta

from ekatra import clock
from ekatra.extensions import db
from ekatra.outbox.claims import claim_batch
from tests.outbox.factories import add_day, add_message, fresh, make_delivery, make_enrollment


def test_a_claim_takes_due_pending_messages_oldest_first_with_a_lease(app):
    now = clock.now()
    late = add_message(due_at=now - timedelta(minutes=1), to="+15550000001")
    early = add_message(due_at=now - timedelta(minutes=5), to="+15550000002")
    add_message(due_at=now + timedelta(minutes=1), to="+15550000003")
    add_message(due_at=now - timedelta(minutes=9), to="+15550000004", status="sent")

    claimed = claim_batch(now, limit=10, lease_seconds=60)

    assert [message.id for message in claimed] == [early.id, late.id]
    row = fresh(early.id)
    assert (row.status, row.attempts, row.claimed_at, row.lease_until) == (
        "sending", 1, now, now + timedelta(seconds=60))


def test_a_claim_takes_no_more_than_the_limit_and_never_the_same_row_twice(app):
    now = clock.now()
    for number in range(5):
        add_message(to=f"+1555000000{number}", due_at=now)

    first = claim_batch(now, limit=3, lease_seconds=60)
    second = claim_batch(now, limit=3, lease_seconds=60)

    assert (len(first), len(second)) == (3, 2)
    assert not {m.id for m in first} & {m.id for m in second}
    assert claim_batch(now, limit=3, lease_seconds=60) == []


def test_a_later_part_of_a_learners_day_waits_for_the_earlier_ones(app):
    now = clock.now()
    enrollment = make_enrollment(make_delivery())
    first, second, third = add_day(enrollment, ["one", "two", "three"], "+919812345678", now)

    assert [m.id for m in claim_batch(now, 10, 60)] == [first.id]
    assert claim_batch(now, 10, 60) == [], "the first part is still sending"


def test_parts_of_another_day_or_learner_are_not_held_back(app):
    now = clock.now()
    delivery = make_delivery()
    asha, kofi = make_enrollment(delivery), make_enrollment(delivery)
    asha_day_1 = add_day(asha, ["a1", "a2"], "+919812345678", now, day=1)
    asha_day_2 = add_day(asha, ["b1"], "+919812345678", now, day=2)
    kofi_day_1 = add_day(kofi, ["k1", "k2"], "+233241234567", now, day=1)

    claimed = {m.id for m in claim_batch(now, 10, 60)}

    assert claimed == {asha_day_1[0].id, asha_day_2[0].id, kofi_day_1[0].id}


def test_messages_of_a_paused_delivery_are_held_until_it_resumes(app):
    now = clock.now()
    delivery = make_delivery(status="paused")
    message = add_message(due_at=now, delivery_id=delivery.id)

    assert claim_batch(now, 10, 60) == []
    delivery.status = "scheduled"
    db.session.commit()
    assert [m.id for m in claim_batch(now, 10, 60)] == [message.id]


def test_a_removed_students_messages_are_not_claimed(app):
    from ekatra.groups.models import Student

    now = clock.now()
    enrollment = make_enrollment(make_delivery(now=now), now=now)
    add_day(enrollment, ["Day one"], to="+15550000001", due_at=now)
    db.session.delete(db.session.get(Student, enrollment.student_id))  # removed from the group
    db.session.commit()
    assert claim_batch(now, 10, 60) == []
