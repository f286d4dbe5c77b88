"""The HTML report document and its SVG charts: self-contained, CSV beside it, atomic, clear errors."""

from __future__ import annotations

import base64
import csv
import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from latent_explorer.core.charts import Series, line_chart, nice_ticks
from latent_explorer.core.report import Figure, HtmlReport, ReportError, package_versions


def png_bytes(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 8), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def sample_report() -> HtmlReport:
    report = HtmlReport(title="T <&>", command="latent-explorer report --model demo:x", inputs={"data": "digits"})
    section = report.section("One")
    section.text("a < b")
    section.figures([Figure("a png", png=png_bytes()), Figure("an svg", svg=line_chart(
        [Series("s", np.arange(5.0), np.arange(5.0) ** 2)], "chart", "x", "y"))])
    section.table("short", "Short", ["name", "value"], [["pi", 3.14159265358979], ["n", 3]])
    section.table("long", "Long", ["i"], [[i] for i in range(100)])
    return report


def test_report_is_self_contained_with_tables_beside_it(tmp_path):
    out = tmp_path / "r.html"
    written = sample_report().write(out)
    assert set(written) == {out, tmp_path / "r-tables" / "short.csv", tmp_path / "r-tables" / "long.csv"}
    html = out.read_text(encoding="utf-8")
    assert "T &lt;&amp;&gt;" in html and "a &lt; b" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    data = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert Image.open(io.BytesIO(base64.b64decode(data))).getpixel((3, 3)) == (200, 30, 30)
    assert html.count("<svg") == 1 and "<details>" in html  # the long table starts folded
    assert "first 40 of 100 rows" in html and 'href="r-tables/long.csv"' in html
    with open(tmp_path / "r-tables" / "short.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["name", "value"] and float(rows[1][1]) == 3.14159265358979  # full precision in the CSV
    assert "3.14159<" in html  # rounded in the page
    for name, version in package_versions().items():
        assert name in html and version in html
    assert "latent-explorer report --model demo:x" in html
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]  # no temporary files left


def test_report_refuses_bad_outputs_and_tables(tmp_path):
    with pytest.raises(ReportError, match="HTML"):
        sample_report().write(tmp_path / "r.pdf")
    with pytest.raises(ReportError, match="does not exist"):
        sample_report().write(tmp_path / "missing" / "r.html")
    report = sample_report()
    report.sections[0].table("short", "again", ["a"], [[1]])
    with pytest.raises(ReportError, match="share a name"):
        report.write(tmp_path / "r.html")
    with pytest.raises(ReportError, match="plain file name"):
        report.sections[0].table("../escape", "bad", ["a"], [[1]])
    assert not (tmp_path / "r.html").exists()


def test_chart_is_valid_svg_with_broken_lines_and_unique_clips():
    y = np.array([1.0, 2.0, np.nan, 3.0, 4.0, 5.0])
    first = line_chart([Series("with a gap", np.arange(6.0), y)], "t", "x", "y")
    second = line_chart([Series("band", np.arange(6.0), y - 1, kind="band", y_upper=y + 1),
                         Series("steps", np.arange(7.0), np.ones(6), kind="step", colour=1, dash=1)], "t", "x", "y")
    ns = {"svg": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(first)
    assert len(root.findall(".//svg:polyline", ns)) == 2  # NaN splits the line
    clips = [ET.fromstring(svg).find(".//svg:clipPath", ns).get("id") for svg in (first, second)]
    assert clips[0] != clips[1]
    assert len(ET.fromstring(second).findall(".//svg:polygon", ns)) == 2


def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(0.0, 10.0) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert nice_ticks(0.013, 0.091) == [0.02, 0.04, 0.06, 0.08]
    assert nice_ticks(3.0, 3.0) == [3.0]
