"""The README's Security table stays honest: every case of the catalogue appears in it exactly
once, under its family, and every test it names exists.

The catalogue itself (``SECURITY.md``) lives outside the repository, so its 77 case ids are
written out here by family. A reference is ``path/test_x.py::test_name`` (a path relative to
``tests/``; a leading ``tests/`` is tolerated), a bare ``test_name`` after such a path in the
same cell (it names a function of that file), or a bare ``path/test_x.py`` (the file);
parametrized ids (``[...]``) are stripped.
Markdown links point at files of the repository (``deploy/SECURITY-CHECKS.md``).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"

# Family name in the table, case-id letter, number of cases (SECURITY.md: 77 in seven families).
FAMILIES = {
    "C2PA": ("C", 15),
    "Fetching": ("S", 17),
    "Media": ("M", 12),
    "No lost work": ("R", 10),
    "Audit": ("L", 8),
    "Web": ("W", 12),
    "Generative": ("F", 3),
}
CASE = re.compile(r"^([A-Z])(\d+)\b")
SPAN = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
PATH_TEST = re.compile(r"^([\w./-]+\.py)((?:::\w+)+)(\[.*\])?$")
BARE_TEST = re.compile(r"^(test_\w+)(\[.*\])?$")
TEST_FILE = re.compile(r"^([\w./-]+/test_\w+\.py)$")
DEPLOY_DOC = re.compile(r"^(deploy/[\w./-]+\.(?:md|ya?ml|sh|txt|toml))$")


@dataclass(frozen=True)
class Row:
    family: str
    case: str
    cells: tuple[str, ...]


def security_rows(readme: str) -> list[Row]:
    """The rows of the table under ``## Security`` (header and rule skipped)."""
    section = readme.split("\n## Security\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith(("| Family ", "|---")):
            continue
        cells = tuple(c.strip() for c in line.strip().strip("|").split(" | "))
        rows.append(Row(family=cells[0], case=cells[1], cells=cells[2:]))
    return rows


@cache
def functions_of(path: Path) -> frozenset[str]:
    """Names of the functions a test file defines (at module level or in a class)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )


def _under(tests: Path, path: str) -> Path:
    """A path of the table, relative to ``tests/`` (a leading ``tests/`` is tolerated)."""
    return tests / path.removeprefix("tests/")


def stale_references(row: Row, tests: Path = TESTS, root: Path = ROOT) -> list[str]:
    """Every reference of ``row`` that names a missing file, function or linked document."""
    stale = []
    for cell in row.cells:
        current: Path | None = None
        for span in SPAN.findall(cell):
            if match := PATH_TEST.match(span):
                current = _under(tests, match.group(1))
                name = match.group(2).rsplit("::", 1)[1]
            elif match := BARE_TEST.match(span):
                if current is None:
                    stale.append(f"{row.case}: {span} follows no test file")
                    continue
                name = match.group(1)
            elif match := TEST_FILE.match(span):
                if not _under(tests, match.group(1)).is_file():
                    stale.append(f"{row.case}: no file tests/{match.group(1)}")
                continue
            elif match := DEPLOY_DOC.match(span):
                if not (root / match.group(1)).exists():
                    stale.append(f"{row.case}: no file {match.group(1)}")
                continue
            else:
                continue
            if not current.is_file():
                stale.append(f"{row.case}: no file {current.relative_to(tests.parent)}")
            elif name not in functions_of(current):
                stale.append(f"{row.case}: {current.relative_to(tests.parent)} has no {name}")
        for target in LINK.findall(cell):
            if not (root / target.split("#", 1)[0]).exists():
                stale.append(f"{row.case}: link to missing {target}")
    return stale


def _rows() -> list[Row]:
    return security_rows((ROOT / "README.md").read_text())


def test_every_case_of_the_catalogue_appears_exactly_once_under_its_family() -> None:
    expected = {
        (family, f"{letter}{n}")
        for family, (letter, count) in FAMILIES.items()
        for n in range(1, count + 1)
    }
    assert len(expected) == 77
    found = []
    for row in _rows():
        match = CASE.match(row.case)
        assert match, f"a row without a case id: {row.case!r}"
        found.append((row.family, match.group(0)))
    counts = Counter(found)
    assert [case for case, n in counts.items() if n > 1] == []
    assert sorted(expected - set(counts)) == []  # missing, or under the wrong family
    assert sorted(set(counts) - expected) == []  # unknown ids, or under the wrong family


def test_every_test_named_in_the_table_exists() -> None:
    rows = _rows()
    spans = [s for row in rows for cell in row.cells for s in SPAN.findall(cell)]
    checked = [s for s in spans if PATH_TEST.match(s) or BARE_TEST.match(s) or TEST_FILE.match(s)]
    assert len(checked) > 100  # the table's format is still the one parsed here
    stale = [problem for row in rows for problem in stale_references(row)]
    assert stale == []


def test_every_deploy_check_the_table_links_to_exists() -> None:
    links = [t for row in _rows() for cell in row.cells for t in LINK.findall(cell)]
    assert any(t.startswith("deploy/") for t in links)
    assert [t for t in links if not (ROOT / t.split("#", 1)[0]).exists()] == []


def test_the_checker_reports_missing_files_functions_and_orphan_names(tmp_path: Path) -> None:
    (tmp_path / "tests" / "pkg").mkdir(parents=True)
    (tmp_path / "tests" / "pkg" / "test_a.py").write_text(
        "import pytest\n\n@pytest.mark.parametrize('x', [1])\ndef test_real(x):\n    pass\n"
    )
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "CHECKS.md").write_text("ok\n")
    row = Row(
        family="Web",
        case="W99 made up",
        cells=(
            "`test_orphan` before any path",
            "`pkg/test_a.py::test_real[1]`, `test_real`, `test_gone`, "
            "`tests/pkg/test_a.py::test_real`, `pkg/test_none.py::test_x`, "
            "`pkg/test_missing.py`, [`deploy/CHECKS.md`](deploy/CHECKS.md), [x](deploy/GONE.md), "
            "`deploy/OLD.md`",
        ),
    )
    problems = stale_references(row, tests=tmp_path / "tests", root=tmp_path)
    assert problems == [
        "W99 made up: test_orphan follows no test file",
        "W99 made up: tests/pkg/test_a.py has no test_gone",
        "W99 made up: no file tests/pkg/test_none.py",
        "W99 made up: no file tests/pkg/test_missing.py",
        "W99 made up: no file deploy/OLD.md",
        "W99 made up: link to missing deploy/GONE.md",
    ]
