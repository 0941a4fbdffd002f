"""Check the machine before setting up: Java for Spark, Maven for the jars."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from newslake.errors import SetupError

MIN_JAVA = 17


def java_major() -> int:
    """The major version of the ``java`` on PATH (or JAVA_HOME's, which Spark prefers)."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        raise SetupError(
            f"Java is not installed: Spark needs Java {MIN_JAVA} or newer "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise SetupError(f"could not read the Java version from `{java} -version`")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def check() -> list[str]:
    """Problems found, as one line each (empty when the machine is ready)."""
    problems = []
    try:
        major = java_major()
        if major < MIN_JAVA:
            problems.append(f"Java {major} found; Spark 4.2 needs Java {MIN_JAVA} or newer")
    except SetupError as exc:
        problems.append(str(exc))
    if shutil.which("mvn") is None:
        problems.append("Maven (mvn) is not installed: install it (Debian: apt-get install maven)")
    return problems


def main() -> int:
    problems = check()
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
