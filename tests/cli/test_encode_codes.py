"""``encode --out`` writes the codes schema in every format, and every format reads back the same codes."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.cli import main
from latent_explorer.core.codes_file import read_codes


def test_encode_parquet_and_arrow_round_trip_exactly(tmp_path, capsys, digits_vae, digits):
    outs = {s: tmp_path / f"codes{s}" for s in (".npz", ".parquet", ".feather")}
    for out in outs.values():
        assert main(["encode", "--model", str(digits_vae), "--data", "digits", "--out", str(out)]) == 0
    reference = read_codes(outs[".npz"])
    assert len(reference) == len(digits) and reference.codes.is_variational
    for suffix in (".parquet", ".feather"):
        back = read_codes(outs[suffix])
        for part in ("z", "mu", "logvar", "labels", "recon_error"):
            np.testing.assert_array_equal(getattr(back.codes, part), getattr(reference.codes, part), err_msg=part)
        assert back.codes.model_key == reference.codes.model_key != ""
        assert back.codes.data_key == digits.fingerprint()
        assert back.class_names == digits.class_names and back.metadata.seed == 0
    assert "wrote" in capsys.readouterr().err


@pytest.mark.parametrize("out", ["codes.csv", "codes"])
def test_unknown_output_format_fails_before_encoding(tmp_path, capsys, digits_vae, out):
    assert main(["encode", "--model", str(digits_vae), "--data", "digits", "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err
    assert "cannot tell the codes format" in err and "fix:" in err and "encoding" not in err
    assert not list(tmp_path.iterdir())
