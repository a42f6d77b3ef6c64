"""Bar chart geometry: bars scale to the largest value and at most about ten labels are shown."""

from __future__ import annotations

from pba_tunnel.web.charts import HEIGHT, LABEL_ROOM, bars


def test_bars_scale_to_the_largest_value() -> None:
    drawn = bars([("mon", 5), ("tue", 10), ("wed", 0)], width=300)
    assert [b.height for b in drawn] == [(HEIGHT - LABEL_ROOM) / 2, HEIGHT - LABEL_ROOM, 0]
    assert [b.x for b in drawn] == [10.0, 110.0, 210.0]
    assert all(b.y + b.height == HEIGHT - LABEL_ROOM for b in drawn)


def test_long_series_show_about_ten_labels_and_empty_ones_no_bars() -> None:
    drawn = bars([(f"d{i}", i) for i in range(30)])
    assert [b.label for b in drawn if b.show_label] == [f"d{i}" for i in range(0, 30, 3)]
    assert bars([]) == []
    assert bars([("x", 0)])[0].height == 0
