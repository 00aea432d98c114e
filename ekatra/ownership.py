"""The ownership rule, stated once: an author sees only their own rows; an admin sees all.

The ORM loaders (`find_course`, `find_group`, `find_delivery`, …) and the Core read paths
(`get_course`, `get_group`, `list_deliveries`, …) both apply it through `owned`; a row another
author owns is then simply not found (a 404, never a 403)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, Table, true

from ekatra.auth.services import Actor
from ekatra.extensions import MAX_ID


def visible_to(actor: Actor, owned_by) -> ColumnElement[bool]:
    """The rule as a condition on `owned_by` (a model or a table with `owner_id`): the rows
    `actor` may see."""
    if actor.is_admin:
        return true()
    owner_id = owned_by.c.owner_id if isinstance(owned_by, Table) else owned_by.owner_id
    return owner_id == actor.author_id


def owned(statement: Select, owned_by, actor: Actor) -> Select:
    """`statement` (a SELECT of `owned_by`, ORM or Core) restricted to the rows `actor` may see."""
    return statement if actor.is_admin else statement.where(visible_to(actor, owned_by))


def is_row_id(row_id: int) -> bool:
    """Ids are 32-bit: a larger one (or zero, or negative) in a URL names nothing."""
    return 0 < row_id <= MAX_ID
