"""The documentation's copy of the lifecycle table is the one the services enforce."""

from pathlib import Path

from closeloop.complaints.lifecycle import as_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_architecture_doc_shows_the_current_lifecycle_table():
    assert as_markdown() in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_set_up_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    commands = [line.split("#")[0].strip() for line in lines[:8] if line.startswith("make ")]
    assert commands == ["make run", "make test"]
