"""Whom an event concerns, answered by the packages that know.

`webhooks` imports no domain package: which partner a learner belongs to, and which partners a
delivery is shared with, live in `partners`, below which the emitting packages (deliveries,
inbound, outbox) sit. `create_app` registers the partners' answers here (wiring only); until
then nobody but the author is told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ekatra.webhooks.services import EventFor, record_events


@dataclass(frozen=True)
class Learner:
    """A group student who is a partner's learner account."""

    partner_id: int
    account_id: int
    livemode: bool = True


class Audience:
    """The answers when no package has registered any: no partner hears of anything."""

    def learners(self, student_ids: Iterable[int]) -> dict[int, Learner]:
        return {}

    def sharing(self, delivery_id: int) -> list[int]:
        return []

    def delivery_livemode(self, delivery_id: int) -> bool:
        """False for a test delivery (one shared with a test partner)."""
        return True

    def failed_messages(self, message_ids: list[int]) -> list[tuple[int | None, int | None, dict]]:
        """(group student id, the delivery's author, data) of each of these messages that
        belongs to a delivery."""
        return []


_audience = Audience()


def register(audience: Audience) -> None:
    global _audience
    _audience = audience


def about_students(items: list[tuple[int | None, int | None, dict]]) -> list[EventFor]:
    """Events about learners: (group student id, the delivery's author, data) each. A partner's
    learner is named to everyone by the partner's user id (`student_id`) and by the group
    student (`group_student_id`), and the partner is told too. A test partner's learner makes a
    test event (`livemode` false): only that partner's test endpoints hear of it."""
    learners = _audience.learners({student_id for student_id, _, _ in items if student_id is not None})
    events = []
    for student_id, author_id, data in items:
        learner = learners.get(student_id)
        events.append(EventFor(
            {"student_id": learner.account_id if learner else student_id, "group_student_id": student_id,
             **data},
            author_id=author_id, partner_ids=(learner.partner_id,) if learner else (),
            livemode=learner.livemode if learner else True))
    return events


def about_delivery(delivery_id: int, author_id: int, data: dict) -> EventFor:
    """An event about a whole delivery: its author and the partners it is shared with (a test
    delivery's event is a test event: its test partners hear of it, its author does not)."""
    return EventFor(data, author_id=author_id, partner_ids=tuple(_audience.sharing(delivery_id)),
                    livemode=_audience.delivery_livemode(delivery_id))


def messages_failed(message_ids: list[int], now) -> None:
    """`message.failed` for these messages, which failed in the caller's transaction."""
    items = _audience.failed_messages(message_ids) if message_ids else []
    if items:
        record_events("message.failed", about_students(items), now=now)
