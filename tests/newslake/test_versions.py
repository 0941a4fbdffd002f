"""Version ids: one format for the nightly job and the DAG."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from newslake.versions import version_of


def test_a_version_id_is_the_model_time_in_utc():
    sao_paulo = timezone(timedelta(hours=-3))
    assert version_of(datetime(2026, 3, 3, 0, 30, 15, tzinfo=sao_paulo)) == "v20260303T033015Z"


def test_a_model_time_without_a_zone_is_taken_as_utc():
    assert version_of(datetime(2026, 3, 3, 3, 30, 15)) == "v20260303T033015Z"


def test_a_switch_records_the_pointer_in_a_lake_on_disk(local_platform, tmp_path):
    import json

    from newslake import aws, versions

    settings = local_platform.model_copy(
        update={"lake_uri": f"file://{tmp_path}/lake", "portals": ("recorded", "never")}
    )
    ddb = aws.client("dynamodb", settings)
    assert versions.switch_recorded(settings, ddb, "recorded", "v1") is None
    assert versions.switch_recorded(settings, ddb, "recorded", "v2") == "v1"

    assert versions.active_version(ddb, settings.versions_table, "recorded") == "v2"
    assert versions.recorded_in_lake(settings) == {"recorded": "v2"}
    doc = json.loads((tmp_path / "lake/_serving/active_version/recorded.json").read_text())
    assert (doc["portal"], doc["active_version"]) == ("recorded", "v2")


def test_the_pointer_is_recorded_in_a_lake_on_s3_as_well(local_platform):
    from newslake import aws, versions

    settings = local_platform.model_copy(
        update={
            "lake_uri": f"s3a://{local_platform.lake_bucket}/versions-test",
            "portals": ("s3p",),
        }
    )
    assert versions.recorded_in_lake(settings) == {}
    versions.switch_recorded(settings, aws.client("dynamodb", settings), "s3p", "v7")
    assert versions.recorded_in_lake(settings) == {"s3p": "v7"}
    listed = aws.client("s3", settings).list_objects_v2(
        Bucket=local_platform.lake_bucket, Prefix="versions-test/"
    )
    assert [o["Key"] for o in listed["Contents"]] == [
        "versions-test/_serving/active_version/s3p.json"
    ]
