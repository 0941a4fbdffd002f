from __future__ import annotations

import stat

from newslake import preflight


def _fake_java(home, version_line):
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True)
    java = bin_dir / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)


def test_missing_java_is_named_with_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-such-jdk"))
    problems = preflight.check()
    assert any("Java is not installed" in p and "openjdk-17" in p for p in problems)


def test_old_java_is_refused(tmp_path, monkeypatch):
    _fake_java(tmp_path, 'openjdk version "11.0.2" 2019-01-15')
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert any("Java 11 found" in p for p in preflight.check())


def test_java_8_style_versions_are_read(tmp_path, monkeypatch):
    _fake_java(tmp_path, 'java version "1.8.0_392"')
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert preflight.java_major() == 8


def test_java_17_passes(tmp_path, monkeypatch):
    _fake_java(tmp_path, 'openjdk version "17.0.15" 2025-04-15')
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert not [p for p in preflight.check() if "Java" in p]
