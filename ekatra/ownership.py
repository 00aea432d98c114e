"""The ownership rule: an author sees only their own rows; an admin sees all."""

from __future__ import annotations

from sqlalchemy import Row, Select

from ekatra.auth.services import Actor
from ekatra.extensions import MAX_ID, db


def owned(statement: Select, model, actor: Actor) -> Select:
    """Restrict a SELECT of `model` (which has `owner_id`) to what `actor` may see."""
    if actor.is_admin:
        return statement
    return statement.where(model.owner_id == actor.author_id)


def owned_row(actor: Actor, row_id: int, key: str, *, anyone: Select, owners_only: Select) -> Row | None:
    """The row with this id, if `actor` may see it: `anyone` (bound by `key`) for an admin,
    `owners_only` (also bound by `owner_id`) for an author. None for an id out of range."""
    if not 0 < row_id <= MAX_ID:
        return None
    statement, params = anyone, {key: row_id}
    if not actor.is_admin:
        statement, params = owners_only, {**params, "owner_id": actor.author_id}
    return db.session.connection().execute(statement, params).first()
