from newslake.results import last_json_object


def test_the_last_json_object_line_wins_over_later_log_lines():
    lines = [
        '{"stage": "first"}',
        "26/11/28 09:15:07 INFO SparkContext: stopped",
        '{"caught_up_s": 12.5, "bronze_rows": 3}',
        "INFO py4j.clientserver: Closing down clientserver connection",
        "[1, 2]",  # JSON, but not an object
        "{not json",
    ]
    assert last_json_object(lines) == {"caught_up_s": 12.5, "bronze_rows": 3}


def test_no_json_object_gives_none():
    assert last_json_object(["starting", "[1]", "", "done"]) is None
