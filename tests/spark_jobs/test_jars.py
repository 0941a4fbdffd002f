from __future__ import annotations

import os
import stat

import pytest

from newslake.errors import SetupError
from newslake.settings import Settings
from spark_jobs import jars


def test_filter_classpath_drops_jars_pyspark_ships():
    paths = [
        "/m2/io/delta/delta-spark_4.2_2.13-4.4.0.jar",
        "/m2/org/apache/hadoop/hadoop-client-api-3.4.2.jar",
        "/m2/org/apache/hadoop/hadoop-aws-3.5.0.jar",
        "/m2/org/scala-lang/scala-library-2.13.17.jar",
    ]
    bundled = {"hadoop-client-api", "scala-library", "spark-core_2.13"}
    assert jars.filter_classpath(paths, bundled) == [
        "/m2/io/delta/delta-spark_4.2_2.13-4.4.0.jar",
        "/m2/org/apache/hadoop/hadoop-aws-3.5.0.jar",
    ]


def _fake_mvn(folder, exit_code):
    script = folder / "mvn"
    script.write_text(f"#!/bin/sh\necho 'Could not transfer artifact' >&2\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_unreachable_maven_central_is_one_clear_error(tmp_path, monkeypatch):
    _fake_mvn(tmp_path, 1)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    settings = Settings(jar_cache_dir=tmp_path / "cache")
    with pytest.raises(SetupError, match="is Maven Central reachable"):
        jars.resolve(settings)
    assert not jars.manifest_path(settings).exists()  # nothing half-written


def test_missing_maven_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SetupError, match=r"Maven .* not installed"):
        jars.resolve(Settings(jar_cache_dir=tmp_path / "cache"))


def test_a_manifest_naming_a_deleted_jar_counts_as_unresolved(tmp_path):
    settings = Settings(jar_cache_dir=tmp_path)
    jar = tmp_path / "x-1.0.jar"
    jar.write_text("")
    jars.manifest_path(settings).write_text(f"{jar}\n")
    assert jars.cached_jars(settings) == [str(jar)]
    jar.unlink()
    assert jars.cached_jars(settings) is None
