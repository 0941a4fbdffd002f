"""Resolve the JVM jars (Delta, hadoop-aws and its AWS SDK bundle) once, reuse them offline.

Maven puts the jars in its local repository (``~/.m2``, outside any clone); this module
writes the class path, minus the jars pyspark already ships, to a manifest in the cache
folder. A test run or a fresh clone finds the manifest and downloads nothing.

Run ``python -m spark_jobs.jars`` (``make setup`` does).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyspark

from newslake.errors import SetupError
from newslake.settings import Settings, get_settings

POM = Path(__file__).with_name("pom.xml")
_VERSION_SUFFIX = re.compile(r"-\d[^/]*\.jar$")


def _artifact(jar: Path | str) -> str:
    """``hadoop-client-api-3.5.0.jar`` -> ``hadoop-client-api``."""
    return _VERSION_SUFFIX.sub("", Path(jar).name)


def manifest_path(settings: Settings) -> Path:
    digest = hashlib.sha256(POM.read_bytes() + pyspark.__version__.encode()).hexdigest()[:12]
    return settings.jar_cache_dir / f"spark-classpath-{digest}.txt"


def bundled_artifacts() -> set[str]:
    jars = Path(pyspark.__file__).parent / "jars"
    return {_artifact(j) for j in jars.glob("*.jar")}


def filter_classpath(paths: list[str], bundled: set[str]) -> list[str]:
    """Drop jars whose artifact pyspark already ships: two versions on one class path clash."""
    return [p for p in paths if p and _artifact(p) not in bundled]


def cached_jars(settings: Settings) -> list[str] | None:
    """The resolved jars, or None when they need resolving (no manifest, or a jar is gone)."""
    manifest = manifest_path(settings)
    if not manifest.exists():
        return None
    jars = [line for line in manifest.read_text().splitlines() if line]
    if not jars or not all(Path(j).exists() for j in jars):
        return None
    return jars


def resolve(settings: Settings) -> list[str]:
    """Resolve with Maven unless the cache already holds everything.

    Raises:
        SetupError: Maven missing, or Maven Central unreachable.
    """
    jars = cached_jars(settings)
    if jars is not None:
        return jars
    mvn = shutil.which("mvn")
    if mvn is None:
        raise SetupError("Maven (mvn) is not installed: install it (Debian: apt-get install maven)")
    settings.jar_cache_dir.mkdir(parents=True, exist_ok=True)
    raw = settings.jar_cache_dir / "classpath.raw"
    log = settings.jar_cache_dir / "mvn.log"
    print("resolving Spark jars with Maven (first run only; the AWS SDK bundle is ~700 MB)...")
    with log.open("w") as out:
        done = subprocess.run(
            [
                mvn,
                "-B",
                "-f",
                str(POM),
                f"-Dmaven.repo.local={settings.maven_repo}",
                "dependency:build-classpath",
                f"-Dmdep.outputFile={raw}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        raise SetupError(
            f"Maven could not resolve the Spark jars (is Maven Central reachable?); see {log}"
        )
    jars = filter_classpath(raw.read_text().strip().split(":"), bundled_artifacts())
    manifest_path(settings).write_text("\n".join(jars) + "\n")
    return jars


def main() -> int:
    try:
        jars = resolve(get_settings())
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(jars)} Spark jars ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
