"""DESIGN boundaries, enforced: voicesim never imports callhold; callhold.domain is stdlib only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import voicesim

SRC = Path(__file__).resolve().parents[1] / "src"


def imported_modules(package: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(SRC))] = names
    return found


def test_voicesim_never_imports_callhold() -> None:
    offenders = {
        path: sorted(n for n in names if n.split(".")[0] == "callhold")
        for path, names in imported_modules(SRC / "voicesim").items()
    }
    assert {p: n for p, n in offenders.items() if n} == {}


def test_callhold_domain_imports_only_the_standard_library() -> None:
    domain = SRC / "callhold" / "domain"
    if not domain.exists():
        return
    allowed = set(sys.stdlib_module_names) | {"callhold", "__future__"}
    offenders = {
        path: sorted(n for n in names if n.split(".")[0] not in allowed)
        for path, names in imported_modules(domain).items()
    }
    bad = {p: n for p, n in offenders.items() if n}
    bad.update(
        {
            p: sorted(x for x in n if x.startswith("callhold.") and not x.startswith("callhold.domain"))
            for p, n in imported_modules(domain).items()
            if any(x.startswith("callhold.") and not x.startswith("callhold.domain") for x in n)
        }
    )
    assert bad == {}


def test_voicesim_public_surface_is_pinned() -> None:
    assert sorted(voicesim.__all__) == sorted(
        [
            "DEFAULT_ACCOUNT_SID",
            "DEFAULT_AUTH_TOKEN",
            "Alert",
            "Audio",
            "Call",
            "Emulator",
            "Event",
            "HeardSegment",
            "PhoneScript",
            "RealtimeClock",
            "Scheduler",
            "Source",
            "StillBusy",
            "VirtualClock",
        ]
    )
    for name in voicesim.__all__:
        assert getattr(voicesim, name).__doc__ or isinstance(getattr(voicesim, name), str), name
