"""The ownership rule: an author sees only their own rows; an admin sees all."""

from __future__ import annotations

from sqlalchemy import Select

from ekatra.auth.services import Actor


def owned(statement: Select, model, actor: Actor) -> Select:
    """Restrict a SELECT of `model` (which has `owner_id`) to what `actor` may see."""
    if actor.is_admin:
        return statement
    return statement.where(model.owner_id == actor.author_id)
