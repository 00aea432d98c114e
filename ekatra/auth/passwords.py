"""Password hashing with bcrypt, and the rules a password must meet."""

from __future__ import annotations

import functools

import bcrypt

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything past 72 bytes; refuse rather than truncate.


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    """Compared against when the email is unknown, at the cost real hashes have, so a login
    takes as long either way. Made once per process and cost."""
    return bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds=rounds))


def password_problem(password: str) -> str | None:
    """Why a password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"Password must be at least {MIN_PASSWORD_CHARS} characters."
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return f"Password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8."
    return None


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def check_password(password: str, password_hash: str | None, rounds: int = 12) -> bool:
    """Whether `password` matches; with no hash (an unknown account) the same bcrypt work is
    done at `rounds` (BCRYPT_ROUNDS) and the answer is no."""
    encoded = password.encode("utf-8")
    if password_hash is None or len(encoded) > MAX_PASSWORD_BYTES:
        bcrypt.checkpw(b"x", _dummy_hash(rounds))
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))
