"""Version ids: one format for the nightly job and the DAG."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from newslake.versions import version_of


def test_a_version_id_is_the_model_time_in_utc():
    sao_paulo = timezone(timedelta(hours=-3))
    assert version_of(datetime(2026, 3, 3, 0, 30, 15, tzinfo=sao_paulo)) == "v20260303T033015Z"


def test_a_model_time_without_a_zone_is_taken_as_utc():
    assert version_of(datetime(2026, 3, 3, 3, 30, 15)) == "v20260303T033015Z"
