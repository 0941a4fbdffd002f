from __future__ import annotations

import gzip
from datetime import datetime

from chispa import assert_df_equality

from ingestion import g1
from spark_jobs import g1_silver
from spark_jobs.silver import to_visits

HEADER = ",".join(g1.COLUMNS)
# user, session, session_start, size, article, ts (2017-10-01 03:00:00 UTC), 6 codes
ROW = "7,1506826800123,1506826800000,2,160974,1506826800000,4,1,17,1,25,2"


def test_g1_rows_match_the_silver_visits_the_landing_path_would_make(spark, tmp_path):
    with gzip.open(tmp_path / "clicks.csv.gz", "wt") as f:
        f.write(f"{HEADER}\n{ROW}\n")
    actual = g1_silver.read_clicks(spark, tmp_path).transform(g1_silver.to_silver)

    click = g1.Click(0, 7, 1506826800123, 1506826800000, 160974, 1506826800000)
    event = g1.to_event(click)
    assert g1.event_id(1506826800123, 1506826800000, 160974) == event["event_id"]
    # what the streaming job makes of the same click's event (silver.to_visits)
    from_events = spark.createDataFrame(
        [(event["pageview_id"], "view", "g1", "7", "1506826800123", "160974",
          datetime(2017, 10, 1, 3, 0), 0, 0, 0, None, None)],
        "pageview_id string, event_type string, portal string, user_id string, "
        "session_id string, article_id string, event_time timestamp, dwell_ms long, "
        "scroll_depth int, clicks int, rec_id string, rec_position int",
    ).transform(to_visits)  # fmt: skip
    assert_df_equality(
        actual.drop("silver_at"), from_events, ignore_row_order=True, ignore_nullable=True
    )
    assert "silver_at" in actual.columns
