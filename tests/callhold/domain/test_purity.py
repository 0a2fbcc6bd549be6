"""callhold.domain imports only the standard library (and itself)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import callhold.domain

DOMAIN = Path(callhold.domain.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module)
    return roots


def test_domain_imports_only_stdlib() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert len(files) >= 10
    for path in files:
        for module in imported_roots(path):
            top = module.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names or module.startswith("callhold.domain") or top == "__future__"
            )
            assert allowed, f"{path.name} imports {module}"
