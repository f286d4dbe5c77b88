"""Load options: one table for the command line's flags and the window's fields, and fixes phrased per front end."""

from __future__ import annotations

from latent_explorer.cli import add_data_options, data_options
from latent_explorer.core.errors import DatasetError
from latent_explorer.core.load_options import DATA_OPTIONS, for_window


def test_the_table_names_every_data_flag_of_the_command_line():
    import argparse

    parser = argparse.ArgumentParser()
    add_data_options(parser)
    flags = {s for action in parser._actions for s in action.option_strings} - {"-h", "--help", "--data"}
    assert flags == {option.flag for option in DATA_OPTIONS}
    args = parser.parse_args(["--data", "x", "--x-key", "a", "--y-key", "b", "--labels", "l", "--shape", "4x5",
                              "--mode", "L", "--attributes", "t", "--limit", "3"])
    assert set(data_options(args)) == {option.key for option in DATA_OPTIONS}


def test_fixes_name_the_dialog_field_in_the_window():
    exc = DatasetError("no image array", path="a.npz", hint="name the image array (--x-key) and the labels (--y-key)")
    text = for_window(str(exc))
    assert "--" not in text
    assert 'the "Image array" field of Open Dataset…' in text and 'the "Label array" field' in text
    assert for_window("e.g. --shape 64x64") == 'e.g. "64x64" in the "Resize to" field of Open Dataset…'
    assert for_window("start with --allow-code") == "start with --allow-code"  # a flag of the window's command
