"""The checked-in SDL is the schema the code serves: an API change shows up in review."""

from ekatra.graphql.cli import sdl_files


def test_checked_in_sdl_matches_the_code():
    for path, text in sdl_files().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} differs from the schema in the code; if the change is intended, run "
            "`ekatra graphql export-schema` and commit the file.")
