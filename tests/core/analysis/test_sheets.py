"""The numbers behind a panel written as CSV (a file per table) or JSON (all in one), all or nothing."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from latent_explorer.core.analysis import write_sheets

SHEETS = {"summary": (["codes", "mean"], [["z", np.float32(1.5)], ["mu", np.float64(np.nan)]]),
          "histogram": (["bin start", "bin end", "count"], [[0.0, 0.5, np.int64(3)], [0.5, 1.0, np.int64(0)]])}


def test_csv_writes_the_first_table_at_the_path_and_the_others_beside_it(tmp_path):
    written = write_sheets(tmp_path / "radius.csv", SHEETS)
    assert [p.name for p in written] == ["radius.csv", "radius-histogram.csv"]
    with open(written[1], newline="") as fh:
        assert list(csv.reader(fh)) == [["bin start", "bin end", "count"], ["0.0", "0.5", "3"], ["0.5", "1.0", "0"]]


def test_json_holds_every_table_with_nan_as_null(tmp_path):
    [path] = write_sheets(tmp_path / "radius.json", SHEETS, title="Density by radius")
    document = json.loads(path.read_text())
    assert document["title"] == "Density by radius"
    assert document["sheets"]["summary"] == {"columns": ["codes", "mean"], "rows": [["z", 1.5], ["mu", None]]}
    assert document["sheets"]["histogram"]["rows"][0] == [0.0, 0.5, 3]


def test_a_table_that_cannot_be_written_takes_the_others_back(tmp_path):
    (tmp_path / "radius-histogram.csv").mkdir()  # a folder where the second table should go
    with pytest.raises(OSError):
        write_sheets(tmp_path / "radius.csv", SHEETS)
    assert not (tmp_path / "radius.csv").exists()
    assert write_sheets(tmp_path / "empty.csv", {}) == [] and not (tmp_path / "empty.csv").exists()
