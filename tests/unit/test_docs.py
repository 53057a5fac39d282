"""The documents that list code are made from the code, and the README stays a page a
newcomer reads: the two commands first, under 200 lines."""

from pathlib import Path

from devtools import readme_tables

ROOT = Path(__file__).resolve().parents[2]


def test_the_handler_and_layout_tables_of_the_architecture_are_the_codes() -> None:
    text = readme_tables.DOCUMENT.read_text()
    assert text == readme_tables.rendered(text), (
        "docs/ARCHITECTURE.md lists other handlers or modules than the code: "
        "run python -m devtools.readme_tables"
    )


def test_the_handler_table_names_every_handler_in_dispatch_order() -> None:
    from shared.services.handlers import HANDLERS

    table = readme_tables.handler_table()
    for phase in (HANDLERS.before_commit, HANDLERS.after_commit, HANDLERS.on_conflict):
        for event, handlers in phase.items():
            row = next(
                line for line in table.splitlines() if line.startswith(f"| `{event.__name__}`")
            )
            positions = [row.index(f"`{h.__name__}`") for h in handlers]
            assert positions == sorted(positions), event.__name__


def test_the_readme_starts_with_the_two_commands_and_stays_short() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) < 200
    commands = [line.split("#")[0].strip() for line in lines[:8] if line.startswith("make ")]
    assert commands == ["make start", "make test"]


def test_the_three_test_speeds_cover_every_test_folder() -> None:
    import re

    makefile = (ROOT / "Makefile").read_text()
    named = {
        folder
        for var in ("UNIT_TESTS", "STORAGE_TESTS", "E2E_TESTS")
        for folder in re.search(rf"^{var} := (.+)$", makefile, re.M).group(1).split()  # type: ignore[union-attr]
    }
    folders = {f"tests/{p.parent.name}" for p in (ROOT / "tests").glob("*/test_*.py")}
    assert folders == named
    assert "$(UNIT_TESTS) $(STORAGE_TESTS) $(E2E_TESTS)" in makefile
