"""The /graphql schema (code first): what authors and learners may read.

Authors (a bearer token) read their own courses, groups and deliveries (an admin reads all);
another author's object is simply absent (null, or not in the list), as REST answers 404.
Learners (the partner's keys with the learner's `jwt_token`/`access_token`) read `me`.
"""

from __future__ import annotations

from pathlib import Path

import strawberry
from graphql import GraphQLError
from sqlalchemy import select
from strawberry.types import Info

from ekatra.courses import models as courses
from ekatra.deliveries import models as deliveries
from ekatra.extensions import MAX_ID, db
from ekatra.graphql import limits
from ekatra.graphql.errors import Schema
from ekatra.graphql.loaders import COURSE, GROUP, show_deliveries
from ekatra.graphql.pagination import Connection, Page
from ekatra.graphql.types import Course, Delivery, DeliveryStatus, Group, Me
from ekatra.groups import models as groups
from ekatra.ownership import owned
from ekatra.partners.learners import enrollments_of

SDL_PATH = Path(__file__).with_name("schema.graphql")
FORBIDDEN = "FORBIDDEN"


def _actor(info: Info):
    actor = info.context.caller.actor
    if actor is None:
        raise GraphQLError("Only authors read this: send an author's bearer token.",
                           extensions={"code": FORBIDDEN})
    return actor


def _one(info: Info, model, row_id: int):
    """The row with this id if the author may see it, else None."""
    if not 0 < row_id <= MAX_ID:
        return None
    return db.session.scalar(owned(select(model).where(model.id == row_id), model, _actor(info)))


@strawberry.type
class Query:
    @strawberry.field(description="Your courses, in id order.")
    def courses(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Course]:
        page = Page(first, after)
        rows = page.rows(owned(select(courses.Course), courses.Course, _actor(info)), courses.Course)
        return page.connection(rows, Course.of)

    @strawberry.field(description="One of your courses (null if it is not yours or does not exist).")
    def course(self, info: Info, id: int) -> Course | None:  # noqa: A002 (the GraphQL argument's name)
        return Course.of(_one(info, courses.Course, id))

    @strawberry.field(description="Your groups, in id order.")
    def groups(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Group]:
        page = Page(first, after)
        rows = page.rows(owned(select(groups.Group), groups.Group, _actor(info)), groups.Group)
        info.context.loaders.saw(GROUP, (row.id for row in rows))
        return page.connection(rows, Group.of)

    @strawberry.field(description="One of your groups (null if it is not yours or does not exist).")
    def group(self, info: Info, id: int) -> Group | None:  # noqa: A002
        row = _one(info, groups.Group, id)
        if row is not None:
            info.context.loaders.saw(GROUP, [row.id])
        return Group.of(row)

    @strawberry.field(description="Your deliveries, in id order, optionally of one status.")
    def deliveries(self, info: Info, status: DeliveryStatus | None = None, first: int | None = None,
                   after: str | None = None) -> Connection[Delivery]:
        page = Page(first, after)
        statement = owned(select(deliveries.Delivery), deliveries.Delivery, _actor(info))
        if status is not None:
            statement = statement.where(deliveries.Delivery.status == status.value)
        rows = show_deliveries(info.context, page.rows(statement, deliveries.Delivery))
        return page.connection(rows, Delivery.of)

    @strawberry.field(description="One of your deliveries (null if it is not yours or does not exist).")
    def delivery(self, info: Info, id: int) -> Delivery | None:  # noqa: A002
        row = _one(info, deliveries.Delivery, id)
        if row is not None:
            show_deliveries(info.context, [row])
        return Delivery.of(row)

    @strawberry.field(description="The learner whose jwt_token and access_token came with the request.")
    def me(self, info: Info) -> Me:
        account = info.context.caller.learner
        if account is None:
            raise GraphQLError("Only a learner reads `me`: send the partner's keys and the learner's "
                               "jwt_token and access_token headers.", extensions={"code": FORBIDDEN})
        rows = enrollments_of(account)
        info.context.loaders.saw(COURSE, (delivery.course_id for _, delivery in rows))
        return Me(id=account.id, name=account.full_name, email=account.email, phone=account.phone,
                  channel=account.channel, timezone=account.timezone, rows=rows)


schema = Schema(query=Query, extensions=limits.EXTENSIONS)

