"""Relay-style connections: `first` (at most 500) items after an opaque cursor, in id order.

A cursor names the id of the last item seen (keyset pagination): a page never repeats or skips
an item when rows are added or removed between requests.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Iterable
from typing import Generic, TypeVar

import strawberry
from graphql import GraphQLError
from sqlalchemy import Select, func, select

from ekatra.extensions import MAX_ID, db
from ekatra.graphql.limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

T = TypeVar("T")
BAD_USER_INPUT = "BAD_USER_INPUT"
_PREFIX = "cursor:"


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The items of this page (the edges' nodes).")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def cursor_for(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{row_id}".encode()).decode("ascii")


def _after_id(after: str | None) -> int:
    if after is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(after.encode("ascii")).decode("ascii")
        row_id = int(text.removeprefix(_PREFIX)) if text.startswith(_PREFIX) else -1
    except (binascii.Error, UnicodeError, ValueError):
        row_id = -1
    if not 0 <= row_id <= MAX_ID:
        raise GraphQLError("`after` is not a cursor this API gave.", extensions={"code": BAD_USER_INPUT})
    return row_id


class Page:
    """`first` and `after` checked: how many rows to read (one more tells whether more follow)."""

    def __init__(self, first: int | None, after: str | None):
        first = DEFAULT_PAGE_SIZE if first is None else first
        if not 0 <= first <= MAX_PAGE_SIZE:
            raise GraphQLError(f"`first` must be between 0 and {MAX_PAGE_SIZE}.",
                               extensions={"code": BAD_USER_INPUT})
        self.first, self.after_id = first, _after_id(after)

    @property
    def key(self) -> tuple[int, int]:
        return self.first, self.after_id

    def connection(self, rows: list, node=lambda row: row) -> Connection:
        """The connection of `rows` (read with `first + 1`), nodes made by `node(row)`."""
        shown = rows[:self.first]
        edges = [Edge(cursor=cursor_for(row.id), node=node(row)) for row in shown]
        return Connection(edges=edges, page_info=PageInfo(
            has_next_page=len(rows) > self.first, has_previous_page=self.after_id > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))

    def rows(self, statement: Select, model) -> list:
        """One page of a SELECT of `model`, in id order."""
        return list(db.session.scalars(
            statement.where(model.id > self.after_id).order_by(model.id).limit(self.first + 1)))

    def rows_by_parent(self, model, parent_column, parent_ids: Iterable[int], *conditions) -> dict[int, list]:
        """One page of `model` rows for each parent, in one statement (ROW_NUMBER per parent)."""
        parent_ids = list(parent_ids)
        if not parent_ids:
            return {}
        rank = func.row_number().over(partition_by=parent_column, order_by=model.id).label("rank")
        ranked = (select(model.id.label("id"), rank)
                  .where(parent_column.in_(parent_ids), model.id > self.after_id, *conditions).subquery())
        pages: dict[int, list] = defaultdict(list)
        for row in db.session.scalars(select(model).join(ranked, ranked.c.id == model.id)
                                      .where(ranked.c.rank <= self.first + 1).order_by(model.id)):
            pages[getattr(row, parent_column.key)].append(row)
        return pages
