"""Reading G1 folders: what is refused, what is skipped and counted, the cap at 20 clicks."""

from __future__ import annotations

import pytest

from evaluation import data
from tests.evaluation.g1files import H0, HEADER, HOUR, row, session_rows, write


def test_sessions_are_grouped_per_hour_file_and_put_in_time_order(tmp_path):
    folder = write(
        tmp_path,
        [
            session_rows(7, 100, H0, [(11, 0), (12, 60_000)]),
            # out of time order in the file: sorted, and counted
            [
                row(8, 200, H0 + HOUR, 2, 22, H0 + HOUR + 9_000),
                row(8, 200, H0 + HOUR, 2, 21, H0 + HOUR),
            ],
        ],
    )
    s = data.load(folder)
    assert s.hour.tolist() == [0, 1]
    assert s.session_id.tolist() == [100, 200]
    assert s.items_of(1).tolist() == [21, 22]
    assert s.issues["sessions_out_of_time_order_sorted"] == 1


def test_a_wrong_header_is_refused_in_one_line(tmp_path):
    folder = write(
        tmp_path,
        [session_rows(1, 1, H0, [(1, 0), (2, 1)])],
        header=HEADER.replace("user_id", "uid"),
    )
    with pytest.raises(data.G1FormatError, match="unexpected header"):
        data.load(folder)


def test_rows_that_are_not_integers_are_skipped_and_counted_without_moving_hours(tmp_path):
    folder = write(
        tmp_path,
        [
            [*session_rows(1, 10, H0, [(1, 0), (2, 1_000)]), "1,10,abc,2,3,4,4,3,20,1,20,2"],
            [
                *session_rows(2, 20, H0 + HOUR, [(5, 0), (6, 1_000)]),
                row(2, 20, H0, 2, 7, H0) + ",99",
            ],
        ],
    )
    s = data.load(folder)
    assert s.issues["rows_not_integers_skipped"] == 2
    assert s.issues["rows_wrong_field_count"] == 1
    assert s.hour.tolist() == [0, 1]  # the bad rows kept their place: session 20 is hour 1
    assert s.items_of(1).tolist() == [5, 6]


def test_fewer_rows_than_the_hour_counts_is_refused(tmp_path):
    folder = write(tmp_path, [session_rows(1, 1, H0, [(1, 0), (2, 1)])])
    (folder / "clicks_hour_rows.csv").write_text("hour_file,rows\nclicks_hour_000.csv,3\n")
    with pytest.raises(data.G1FormatError, match="do not belong together"):
        data.load(folder)


def test_an_empty_hour_is_counted(tmp_path):
    folder = write(
        tmp_path,
        [
            session_rows(1, 1, H0, [(1, 0), (2, 1)]),
            [],
            session_rows(2, 2, H0 + 2 * HOUR, [(1, 0), (3, 1)]),
        ],
    )
    s = data.load(folder)
    assert s.issues["hours_empty"] == 1
    assert s.hour.tolist() == [0, 2]


def test_sessions_are_capped_at_their_first_20_clicks(tmp_path):
    clicks = [(1000 + i, i * 1_000) for i in range(25)]
    s = data.load(write(tmp_path, [session_rows(1, 1, H0, clicks)]))
    assert s.lengths.tolist() == [20]
    assert s.items_of(0)[-1] == 1019
    assert s.issues["clicks_beyond_cap_dropped"] == 5


def test_a_missing_folder_says_where_to_point(tmp_path):
    with pytest.raises(data.NewslakeError, match="--data"):
        data.load(tmp_path / "nowhere")
