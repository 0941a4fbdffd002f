"""Build the Lambda dependencies layer without Docker: ``python -m infra.layer [DIR]``.

pip downloads manylinux wheels for Lambda's runtime (Python 3.11, x86_64) at the versions
pinned in ``requirements.lock`` into ``DIR/python`` (default ``build/lambda-layer``), the
layout Lambda layers use. ``make deploy`` runs it and passes the directory to the app as
``-c lambda_layer_dir=...``; synthesis without it still works (tests, ``make synth``) and
the functions then lack their packages.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO_ROOT / "build" / "lambda-layer"
# What the three handlers import beyond the standard library and the runtime's boto3.
PACKAGES = (
    "aws-lambda-powertools",
    "pydantic",
    "pydantic-settings",
    "fastapi",
    "mangum",
    "PyJWT[crypto]",
)


def pip_command(target: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        "--platform",
        "manylinux2014_x86_64",
        "--implementation",
        "cp",
        "--python-version",
        "3.11",
        "--only-binary=:all:",
        "-c",
        str(REPO_ROOT / "requirements.lock"),
        *PACKAGES,
    ]


def build(layer_dir: Path) -> Path:
    target = layer_dir / "python"
    shutil.rmtree(layer_dir, ignore_errors=True)
    target.mkdir(parents=True)
    subprocess.run(pip_command(target), check=True)
    return layer_dir


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    layer_dir = Path(args[0]) if args else DEFAULT_DIR
    try:
        build(layer_dir)
    except subprocess.CalledProcessError as exc:
        print(f"layer: pip failed ({exc.returncode}); is PyPI reachable?", file=sys.stderr)
        return 1
    print(layer_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
