"""The house rules a reviewer checks by eye, checked on every run.

* The ground floor ``newslake/`` imports nothing from the rooms above it.
* A Spark job (a module run by ``spark-submit``) is imported by no other module of
  ``spark_jobs/``: jobs share libraries, and every table's path lives in ``tables.py``.
* ``serving/`` never imports the local platform (``newslake.local``), which only talks to
  the moto server: what runs in AWS must not depend on it.
* Product functions stay short (under 70 lines) and take at most 6 positional parameters.

Each scan is also run on a small hand-written source, so a scan that finds nothing because
it is broken fails too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("newslake", "ingestion", "spark_jobs", "serving", "airflow_dags", "evaluation")
PRODUCT_ALSO = ("infra", "demo")
ABOVE_THE_GROUND_FLOOR = (
    "ingestion", "spark_jobs", "serving", "airflow_dags", "evaluation", "benchmarks", "demo",
)  # fmt: skip
# Tools run with ``python -m`` that set Spark up (the jar cache, spark-submit's wrapper).
SPARK_TOOLS = {"spark_jobs.jars", "spark_jobs.submit"}
MAX_LINES = 69
MAX_POSITIONAL = 6


def _modules(package: str) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        yield name, ast.parse(path.read_text(), filename=str(path))


def imported(tree: ast.Module, module: str) -> set[str]:
    """Every module ``tree`` (the source of ``module``) imports, anywhere in it, with
    relative imports resolved and ``from package import name`` counted as ``package.name``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: -node.level]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _under(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def is_entry_point(tree: ast.Module) -> bool:
    """A module with an ``if __name__ == "__main__":`` block."""
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            left, comparators = node.test.left, node.test.comparators
            if isinstance(left, ast.Name) and left.id == "__name__" and len(comparators) == 1:
                right = comparators[0]
                if isinstance(right, ast.Constant) and right.value == "__main__":
                    return True
    return False


def oversized(tree: ast.Module) -> list[str]:
    """Functions of more than MAX_LINES lines or MAX_POSITIONAL positional parameters
    (``self`` and ``cls`` not counted), as ``name:line (why)``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            positional = [
                a.arg
                for a in node.args.posonlyargs + node.args.args
                if a.arg not in ("self", "cls")
            ]
            if lines > MAX_LINES:
                found.append(f"{node.name}:{node.lineno} ({lines} lines)")
            if len(positional) > MAX_POSITIONAL:
                found.append(f"{node.name}:{node.lineno} ({len(positional)} positional)")
    return found


# ---- the scans catch what they look for ----------------------------------------------------
def test_imports_are_resolved_and_named_in_full() -> None:
    source = (
        "import spark_jobs.streaming\n"
        "from ingestion import handler\n"
        "from .provision import find\n"
        "def late():\n"
        "    from ..serving import auth\n"
    )
    assert imported(ast.parse(source), "newslake.local.server") == {
        "spark_jobs.streaming",
        "ingestion",
        "ingestion.handler",
        "newslake.local.provision",
        "newslake.local.provision.find",
        "newslake.serving",
        "newslake.serving.auth",
    }


def test_an_entry_point_is_recognised_by_its_main_block() -> None:
    assert is_entry_point(ast.parse('def main(): ...\nif __name__ == "__main__":\n    main()\n'))
    assert not is_entry_point(ast.parse('def main(): ...\nif __name__ == "other":\n    main()\n'))


def test_long_functions_and_long_signatures_are_found() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    source = (
        f"def long():\n{body}\n"
        "def wide(a, b, c, d, e, f, g): ...\n"
        "class K:\n    def fine(self, a, b, c, d, e, f, *, g): ...\n"
    )
    assert oversized(ast.parse(source)) == ["long:1 (70 lines)", "wide:71 (7 positional)"]


# ---- the tree keeps the rules -------------------------------------------------------------
def test_the_ground_floor_imports_nothing_above_it() -> None:
    offenders = {
        name: sorted(n for n in imported(tree, name) if _under(n, ABOVE_THE_GROUND_FLOOR))
        for name, tree in _modules("newslake")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_spark_job_imports_another_job() -> None:
    modules = dict(_modules("spark_jobs"))
    jobs = {name for name, tree in modules.items() if is_entry_point(tree)} - SPARK_TOOLS
    assert {"spark_jobs.streaming", "spark_jobs.nightly", "spark_jobs.maintenance"} <= jobs
    offenders = {
        name: sorted(imported(tree, name) & (jobs - {name})) for name, tree in modules.items()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_serving_does_not_import_the_local_platform() -> None:
    offenders = {
        name: sorted(n for n in imported(tree, name) if _under(n, ("newslake.local",)))
        for name, tree in _modules("serving")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_product_functions_are_short_with_few_positional_parameters() -> None:
    offenders = {
        name: found
        for package in PRODUCT + PRODUCT_ALSO
        for name, tree in _modules(package)
        if (found := oversized(tree))
    }
    assert offenders == {}
