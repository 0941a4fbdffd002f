from __future__ import annotations

import pytest

from benchmarks.stats import percentile


def test_percentiles_interpolate_between_ranks():
    values = [10.0, 1.0, 4.0, 2.0, 3.0]  # sorted: 1 2 3 4 10
    assert percentile(values, 50) == 3.0
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 10.0
    assert percentile(values, 95) == pytest.approx(8.8)  # 4 + (10 - 4) * 0.8
    assert percentile([7.0], 99) == 7.0


def test_no_values_or_a_bad_percentile_raise():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)
