"""Claiming due messages: what is taken, in what order, and what is held back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from ekatra import clock
from ekatra.extensions import db
from ekatra.outbox import claims
from ekatra.outbox import services as outbox
from ekatra.outbox.claims import claim_batch, claim_statement
from tests.outbox.factories import add_day, add_message, add_messages, fresh, make_delivery, make_enrollment


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


def test_a_paused_deliverys_messages_are_not_claimed_and_resume_releases_them_at_once(app):
    now = clock.now()
    enrollment = make_enrollment(make_delivery(now=now), now=now)
    first, second = add_day(enrollment, ["one", "two"], "+919812345678", now + timedelta(hours=1))
    outbox.hold(enrollment.delivery_id, now)
    db.session.commit()

    assert claim_batch(now + timedelta(hours=2), 10, 60) == [], "held while paused, though due"
    assert {fresh(first.id).status, fresh(second.id).status} == {"held"}
    assert fresh(first.id).hold_reason == "paused"

    resumed_at = now + timedelta(minutes=5)
    outbox.release(enrollment.delivery_id, resumed_at)
    db.session.commit()
    assert [m.id for m in claim_batch(resumed_at, 10, 60)] == [first.id], "at once, the first part only"
    assert fresh(second.id).status == "waiting"


def test_a_removed_students_messages_are_cancelled_at_once(app):
    from ekatra.deliveries.services import withdraw_students

    now = clock.now()
    enrollment = make_enrollment(make_delivery(now=now), now=now)
    first, second = add_day(enrollment, ["Day one", "more"], to="+15550000001", due_at=now)
    withdraw_students([enrollment.student_id], now)
    db.session.commit()

    assert claim_batch(now, 10, 60) == []
    assert {fresh(first.id).status, fresh(second.id).status} == {"cancelled"}


def test_the_claim_statement_joins_nothing(app):
    statement = claim_statement(clock.now(), 10, 60)
    sql = str(statement.compile(db.engine)).upper()

    assert " JOIN " not in sql and "EXISTS" not in sql
    assert "DELIVERIES" not in sql and "ENROLLMENTS" not in sql
    if db.engine.dialect.name == "postgresql":
        assert "FOR UPDATE OF CANDIDATE SKIP LOCKED" in sql


def test_the_claim_reads_the_partial_claim_index_on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        return
    now = clock.now()
    add_messages(2000, due_at=now)
    db.session.execute(text("ANALYZE messages"))
    selection = claims._claimable(now)[1].limit(10)
    compiled = selection.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {compiled}")))
    db.session.rollback()

    assert "ix_messages_claim" in plan, plan
    assert "Join" not in plan and "Nested Loop" not in plan, plan
