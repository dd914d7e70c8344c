"""The api is laid out by feature (issue 18, item 2), kept true here by reading its modules.

A route module (one that defines `router`) imports no other route module; SQL is written only
in an `adapters` package; a `domain` package imports no web framework and no database driver.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "services/api/src/shaobing_api"
SQL = re.compile(
    r"\b(?:select\s+\S[\s\S]*?\sfrom\s+\w+|insert\s+into|update\s+\w+\s+set|delete\s+from)\b",
    re.IGNORECASE,
)
NOT_IN_DOMAIN = ("fastapi", "starlette", "asyncpg")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved (`from . import x`: both)."""
    package = _name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def _is_route_module(path: Path) -> bool:
    assigned = (node.targets for node in _tree(path).body if isinstance(node, ast.Assign))
    return any(getattr(t, "id", None) == "router" for targets in assigned for t in targets)


def _strings(path: Path) -> list[str]:
    """The string constants of a module, docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node.value
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


ROUTE_MODULES = {_name(p): p for p in _modules() if _is_route_module(p)}


def test_the_api_has_route_modules_to_check() -> None:
    assert len(ROUTE_MODULES) > 5


@pytest.mark.parametrize("module", sorted(ROUTE_MODULES))
def test_a_route_module_imports_no_other_route_module(module: str) -> None:
    imported = _imports(ROUTE_MODULES[module]) & set(ROUTE_MODULES)
    assert not imported - {module}, f"{module} imports routes of {sorted(imported)}"


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_sql_is_written_only_in_adapters(path: Path) -> None:
    if "adapters" in path.relative_to(PACKAGE).parts:
        return
    sql = [s for s in _strings(path) if SQL.search(s)]
    assert not sql, f"{_name(path)} holds SQL outside adapters/: {sql[0][:80]!r}"


@pytest.mark.parametrize(
    "path", [p for p in _modules() if "domain" in p.relative_to(PACKAGE).parts], ids=_name
)
def test_the_domain_imports_no_framework_and_no_database(path: Path) -> None:
    edges = {m for m in _imports(path) if m.split(".")[0] in NOT_IN_DOMAIN}
    edges |= {m for m in _imports(path) if ".adapters" in m or m.endswith(("routes", "pages"))}
    assert not edges, f"{_name(path)} imports {sorted(edges)}"


def test_the_checks_see_sql_where_it_is() -> None:
    assert SQL.search("select id from alerts where id = $1")
    assert SQL.search("update alerts set status = $2")
    assert not SQL.search("Set a READY run aside (it is never paid), e.g. to select from")
