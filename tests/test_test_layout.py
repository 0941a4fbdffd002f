"""Test helpers live in tests/utils and are imported by name; no module imports a conftest.

pytest loads conftest files itself, as plugins holding fixtures; a test that imports one as
a module as well may load it a second time under another name, and a reader looking for a
helper has to know which conftest hides it. Plain modules in tests/utils have neither
problem.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported_modules(tree: ast.Module) -> list[str]:
    """Every module an import statement names, relative ones with their leading dots."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.append(base)
            if not node.module:  # `from . import conftest`
                names.extend(base + alias.name for alias in node.names)
    return names


def _conftest_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [name for name in _imported_modules(tree) if name.rsplit(".", 1)[-1] == "conftest"]


def test_the_scan_sees_every_form_of_conftest_import() -> None:
    source = (
        "import tests.conftest\n"
        "from tests.serving.conftest import ISSUER\n"
        "from ..conftest import Synthesized\n"
        "from . import conftest\n"
        "from tests.utils.tokens import ISSUER\n"
    )
    assert _imported_modules(ast.parse(source)) == [
        "tests.conftest",
        "tests.serving.conftest",
        "..conftest",
        ".",
        ".conftest",
        "tests.utils.tokens",
    ]


def test_no_test_module_imports_from_a_conftest() -> None:
    offenders = {
        str(path.relative_to(TESTS.parent)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := _conftest_imports(path))
    }
    assert offenders == {}, "import test helpers from tests/utils, not from conftest files"
