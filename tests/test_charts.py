"""The hand-written SVG charts: bars in proportion, data text escaped."""

import re

from resettlement.charts import bar_chart, line_chart


def test_it_draws_one_bar_per_label_and_series_in_proportion():
    svg = bar_chart(["Pavlodar", "Akmola"], [("Quota", [100, 50]), ("Arrived", [0, 25])], title="Q")

    widths = [float(w) for w in re.findall(r'<rect class="bar s\d" [^>]*width="([\d.]+)"', svg)]
    assert len(widths) == 4
    pavlodar_quota, pavlodar_arrived, akmola_quota, akmola_arrived = widths
    assert pavlodar_quota == 2 * akmola_quota == 4 * akmola_arrived
    assert pavlodar_arrived == 0


def test_it_escapes_every_text_from_the_data():
    svg = bar_chart(['<script>alert("x")</script>'], [("A&B", [1])], title="<b>t</b>")
    line = line_chart(["<i>2021-09</i>", "2021-10"], [("<s>", [1, 2])], title="t")

    for drawn in (svg, line):
        assert [tag for tag in ("<script>", "<b>", "<i>", "<s>") if tag in drawn] == []
    assert "&lt;script&gt;" in svg
    assert "A&amp;B" in svg


def test_it_draws_nothing_without_data():
    assert bar_chart([], [("A", [])], title="t") == ""
    assert line_chart([], [("A", [])], title="t") == ""


def test_it_shortens_long_labels_but_keeps_them_in_the_tooltip():
    label = "Kabul evacuation flight of the ninth of September 2021, second plane"

    svg = bar_chart([label], [("People", [35])], title="t")

    assert f"<title>{label} — People: 35</title>" in svg
    assert ">Kabul evacuation flight of the ninth of S…</text>" in svg
