"""The documentation's copy of the lifecycle tables is the one the services enforce."""

import re
from pathlib import Path

from closeloop.complaints.lifecycle import as_markdown
from closeloop.core.lifecycle import lifecycles_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_architecture_doc_shows_the_current_lifecycle_table():
    assert as_markdown() in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_architecture_doc_shows_every_lifecycle_table():
    """What `closeloop lifecycle` prints: every table under its heading."""
    assert lifecycles_markdown() in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_set_up_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    commands = [line.split("#")[0].strip() for line in lines[:8] if line.startswith("make ")]
    assert commands == ["make run", "make test"]


def test_every_file_the_docs_name_exists() -> None:
    """A backticked path to one of our files (`closeloop/sla/loader.py`, `sla/loader.py`, `tests/…`) names
    a file that exists; paths relative to a package named just before (`exports/pdf.py`) are left out."""
    packages = {p.name for p in (ROOT / "closeloop").iterdir() if (p / "__init__.py").exists()}
    tops = {"closeloop", "tests", "bench", "scripts", "docs"}
    missing = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for path in re.findall(r"`([\w./-]+/[\w.-]*)`", doc.read_text(encoding="utf-8")):
            if not (path.endswith("/") or Path(path).suffix in {".py", ".md", ".html", ".sh", ".json", ".txt"}):
                continue  # `core/files.file_response`: a name in a module, not a file
            first = path.split("/")[0]
            if first in tops:
                candidates = [ROOT / path]
            elif first in packages:
                candidates = [ROOT / "closeloop" / path]
            else:
                continue
            if not any(c.exists() for c in candidates):
                missing.append(f"{doc.name}: {path}")
    assert missing == []
