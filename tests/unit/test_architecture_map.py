"""docs/architecture.md opens with a map, concept → the file that holds it: kept true here.

A place in the map is a link whose text is the end of its target's path, optionally followed by
`::` and a name the file defines: for Python a class, function or assignment (dotted for a
member, `PersonStream.sweep`), for any other file the word in its text. Reads files only.
"""

from __future__ import annotations

import ast
import re
import tomllib
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
ARCHITECTURE = DOCS / "architecture.md"
MAP_HEADING = "## The map: each concept and the file that holds it"
LINK = re.compile(r"\[`?([^\]`]+)`?\]\(([^)\s]+)\)")
# What a newcomer changing behaviour looks for first (issue 18, item 5): each must have a row.
MUST_MAP = (
    "a rule",
    "a policy",
    "a person's state",
    "the alert workflow",
    "a payout decision",
    "a contract",
    "a topic",
    "a source table's mapping",
)


def _section(heading: str) -> list[str]:
    """The lines of the `## ` section under the heading, without it (none: no such section)."""
    lines = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    if heading not in lines:
        return []
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@cache
def _map_rows() -> dict[str, list[str]]:
    """Each concept of the map with its cells (where, also); area headings left out."""
    rows = [_cells(line) for line in _section(MAP_HEADING) if line.startswith("|")]
    return {concept: rest for concept, *rest in rows[2:] if not concept.startswith("**")}


def _defined_in_python(path: Path) -> set[str]:
    """Every class, function and assigned name of a module, dotted below its class or function."""
    names: set[str] = set()

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(prefix + node.name)
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(prefix + t.id for t in targets if isinstance(t, ast.Name))

    visit(ast.parse(path.read_text(encoding="utf-8")).body, "")
    return names


def _defines(path: Path, symbol: str) -> bool:
    if path.suffix == ".py":
        return symbol in _defined_in_python(path)
    word = re.compile(rf"(?<![\w-]){re.escape(symbol)}(?![\w-])")
    return bool(word.search(path.read_text(encoding="utf-8")))


def _stale(label: str, target: str) -> str | None:
    """Why a place of the map no longer holds (None: it does)."""
    path = (DOCS / target).resolve()
    shown, _, symbol = label.partition("::")
    if not path.is_relative_to(ROOT):
        return f"{label} links outside the repository"
    relative = path.relative_to(ROOT).as_posix() + ("/" if target.endswith("/") else "")
    if relative != shown and not relative.endswith(f"/{shown}"):
        return f"{label} links to {relative}"
    if not path.exists():
        return f"{relative} does not exist"
    if symbol and (path.is_dir() or not _defines(path, symbol)):
        return f"{relative} does not define {symbol}"
    return None


def test_the_architecture_opens_with_the_map():
    lines = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    assert next(line for line in lines if line.startswith("## ")) == MAP_HEADING
    missing = [c for c in MUST_MAP if not any(row.startswith(c) for row in _map_rows())]
    assert not missing, f"the map has no row for {missing}"


@pytest.mark.parametrize("concept", list(_map_rows()))
def test_each_row_of_the_map_names_what_exists(concept):
    places = LINK.findall(" ".join(_map_rows()[concept]))
    assert places, f"map row {concept!r} names no file"
    stale = [why for label, target in places if (why := _stale(label, target))]
    assert not stale, f"map row {concept!r} is stale: {'; '.join(stale)}"


@pytest.mark.parametrize("concept", list(_map_rows()))
def test_a_concept_in_more_than_one_place_says_so(concept):
    where, also = _map_rows()[concept]
    places = len(LINK.findall(where))
    assert places == 1 or also.startswith("two places"), (
        f"map row {concept!r} names {places} places: keep one, or start its note 'two places'"
    )


def test_the_package_table_lists_every_package_installed():
    find = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    roots = find["tool"]["setuptools"]["packages"]["find"]["where"]
    installed = {
        (package.parent.name, f"{root}/")
        for root in roots
        for package in (ROOT / root).glob("shaobing_*/__init__.py")
    }
    section = _section("## One distribution, one import name per part")
    rows = [_cells(line) for line in section if line.startswith("|")]
    listed = {(package.strip("`"), folder.strip("`")) for package, folder in rows[2:]}
    assert listed == installed, (
        f"package table: add {sorted(installed - listed)}, remove {sorted(listed - installed)}"
    )
