"""The ownership rule, stated once: an author sees only their own rows; an admin sees all.

One row (the ORM loaders `find_course`, `find_group`, `find_delivery` and the Core read paths
`get_course`, `get_group`, `get_delivery`) is read by id and then passed through `visible`;
a list is read with `owned`, the same rule as a SQL condition. A row another author owns is
simply not found (a 404, never a 403)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, Table

from ekatra.auth.services import Actor
from ekatra.extensions import MAX_ID

Row = TypeVar("Row")


def may_see(actor: Actor, owner_id: int | None) -> bool:
    """The rule: `actor` may see a row owned by `owner_id`."""
    return actor.is_admin or owner_id == actor.author_id


def visible(actor: Actor, row: Row | None) -> Row | None:
    """`row` (a model instance or a result row with `owner_id`) if `actor` may see it, else None."""
    return row if row is not None and may_see(actor, row.owner_id) else None


def owned(statement: Select, owned_by, actor: Actor) -> Select:
    """`statement` (a SELECT of `owned_by`, a model or a table with `owner_id`) restricted to the
    rows `actor` may see: `may_see` as a SQL condition."""
    if actor.is_admin:
        return statement
    owner_id = owned_by.c.owner_id if isinstance(owned_by, Table) else owned_by.owner_id
    return statement.where(owner_id == actor.author_id)


def is_row_id(row_id: int) -> bool:
    """Ids are 32-bit: a larger one (or zero, or negative) in a URL names nothing."""
    return 0 < row_id <= MAX_ID
