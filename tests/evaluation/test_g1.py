"""make eval-g1 on small hand-written folders: the JSON line, gaps and bad input."""

from __future__ import annotations

import json

from evaluation import g1
from tests.evaluation.g1files import H0, HEADER, HOUR, session_rows, write

MIN = 60_000


def _hour(h: int, first_session: int) -> list[str]:
    start = H0 + h * HOUR
    return [
        *session_rows(1, first_session, start, [(1, 0), (2, MIN), (3, 2 * MIN)]),
        *session_rows(2, first_session + 1, start + MIN, [(1, 0), (2, MIN)]),
        *session_rows(3, first_session + 2, start + 2 * MIN, [(2, 0), (3, MIN)]),
        *session_rows(4, first_session + 3, start + 3 * MIN, [(1, 0), (3, MIN)]),
    ]


def _run_with_hour_2_empty(tmp_path, capsys):
    """``make eval-g1`` on hours 0-3 (hour 2 empty, protocol 2 only): the JSON line and file."""
    folder = write(tmp_path / "g1", [_hour(0, 10), _hour(1, 20), [], _hour(3, 40)])
    out = tmp_path / "p2.json"

    code = g1.main(["--data", str(folder), "--last-hour", "3", "--out", str(out), "--no-protocol1"])

    assert code == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1]), json.loads(out.read_text())


def test_an_empty_hour_is_reported_as_skipped_and_the_rest_scored(tmp_path, capsys):
    line, saved = _run_with_hour_2_empty(tmp_path, capsys)

    p2 = line["protocol2"]
    assert p2["hours"]["skipped_empty"] == [2]
    assert p2["hours"]["scored"] == 2
    assert p2["data_issues"]["hours_empty"] == 1
    assert 0 <= p2["online"]["ndcg_at_20"] <= p2["online"]["hr_at_20"] <= 1
    assert set(p2["models"]) == {
        "newslake", "covisited_then_trending", "trending", "most_clicked_previous_hour", "vsknn",
        "reader", "nightly",
    }  # fmt: skip
    assert saved["online"]["last_click"]["newslake"]["hours"] == 2


def test_bad_rows_are_counted_in_the_json(tmp_path, capsys):
    folder = write(tmp_path / "g1", [_hour(0, 10), [*_hour(1, 20), "1,2,x,4,5,6,7,8,9,10,11,12"]])
    g1.main(
        [
            "--data",
            str(folder),
            "--last-hour",
            "1",
            "--out",
            str(tmp_path / "o.json"),
            "--no-protocol1",
        ]
    )
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["protocol2"]["data_issues"]["rows_not_integers_skipped"] == 1


def test_a_wrong_header_ends_with_one_line_and_no_figures(tmp_path, capsys):
    folder = write(tmp_path / "g1", [_hour(0, 10), _hour(1, 20)], header=HEADER.replace(",", ";"))
    code = g1.main(["--data", str(folder), "--last-hour", "1", "--no-protocol1"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.startswith("error:") and "unexpected header" in captured.err


def test_hours_beyond_the_data_are_refused(tmp_path, capsys):
    folder = write(tmp_path / "g1", [_hour(0, 10), _hour(1, 20)])
    assert g1.main(["--data", str(folder), "--last-hour", "5", "--no-protocol1"]) == 1
    assert "hourly files 0..1" in capsys.readouterr().err


def test_protocol1_scores_each_whole_day_of_the_hours(tmp_path, capsys):
    # 48 hourly files from 2017-10-01 02:37: 10-02 is the only whole day inside them.
    hours: list[list[str]] = [[] for _ in range(48)]
    hours[0] = _hour(0, 10)  # history: 1 -> 2, 1 -> 3, 2 -> 3 read together
    for h, first in ((25, 50), (30, 60)):  # the test day (10-02 03:37 and 08:37)
        hours[h] = _hour(h, first)
    hours[26] = session_rows(5, 70, H0 + 26 * HOUR, [(3, 0), (1, MIN)])  # a fifth reader
    hours[47] = _hour(47, 90)  # 10-03 01:37: the data ends before 10-03 does
    folder = write(tmp_path / "g1", hours)
    out1 = tmp_path / "p1.json"

    code = g1.main(
        ["--data", str(folder), "--first-hour", "0", "--last-hour", "47",
         "--out", str(tmp_path / "p2.json"), "--out1", str(out1)]
    )  # fmt: skip

    assert code == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["protocol1"]["test_days"] == 1
    assert set(line["protocol1"]["mean"]) >= {"most_viewed", "trending", "covisitation", "blend"}
    saved = json.loads(out1.read_text())
    assert list(saved["test_days"]) == ["2017-10-02"]
    assert saved["test_days"]["2017-10-02"]["users"] == 5  # readers 1-5 read on 10-02
    assert saved["skipped_days"] == {}


def test_the_json_line_has_the_readers_list_and_the_arrivals(tmp_path, capsys):
    # Readers 1-4 read in every hour: each session of hours 1 and 3 starts about an hour
    # after the reader's last click, so every test session there is also an arrival.
    line, saved = _run_with_hour_2_empty(tmp_path, capsys)

    reader = line["protocol2"]["reader"]
    for variant in ("online", "strict"):
        assert 0 <= reader[variant]["ndcg_at_20"] <= reader[variant]["hr_at_20"] <= 1
    arrival = line["arrival"]
    assert set(arrival) == {"reader", "trending", "nightly", "predictions"}
    for model in ("reader", "trending", "nightly"):
        assert 0 <= arrival[model]["ndcg_at_20"] <= arrival[model]["hr_at_20"] <= 1
    assert arrival["predictions"] == saved["online"]["last_click"]["reader"]["predictions"]
