"""Every cohort test keeps its uploads in its own folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def uploads_dir(request, tmp_path):
    if "app" not in request.fixturenames:
        yield None
        return
    app = request.getfixturevalue("app")
    folder = tmp_path / "uploads"
    previous = app.config["COHORT_UPLOADS_DIR"]
    app.config["COHORT_UPLOADS_DIR"] = str(folder)
    app.extensions.pop("ekatra.cohort_store", None)
    yield folder
    app.config["COHORT_UPLOADS_DIR"] = previous
    app.extensions.pop("ekatra.cohort_store", None)
