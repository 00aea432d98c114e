"""Where students' uploads and the signed agreement PDFs are kept: outside the database, in a
document store. `LocalStore` (a folder on the local disk, COHORT_UPLOADS_DIR) is the default;
an object store plugs in through COHORT_STORE, the import path of a factory `f(config) -> store`
whose result has the same three methods (e.g. one over S3's put_object/get_object/delete_object).

Keys are made here from random bytes, never from a user's file name: a key is a safe path.
"""

from __future__ import annotations

import os
import re
import secrets
from importlib import import_module
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"[a-z]+/[A-Za-z0-9_-]{20,64}\.(pdf|jpg|png)")


class DocumentStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def new_key(kind: str, extension: str) -> str:
    """A fresh, unguessable key such as `uploads/Yp3…Q.pdf`."""
    return f"{kind}/{secrets.token_urlsafe(24)}.{extension}"


class LocalStore:
    """Files under one folder; written to a temporary name and renamed, so a reader never sees
    half a file. Only keys made by `new_key` are accepted (no path ever leaves the folder)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a document key: {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(path.name + ".part")
        with open(partial, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o600)
        partial.replace(path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def store_from_config(config) -> DocumentStore:
    """COHORT_STORE (`package.module:factory`) if set, else a LocalStore in COHORT_UPLOADS_DIR."""
    factory = config.get("COHORT_STORE") or ""
    if factory:
        module, _, name = factory.partition(":")
        return getattr(import_module(module), name)(config)
    return LocalStore(config["COHORT_UPLOADS_DIR"])
