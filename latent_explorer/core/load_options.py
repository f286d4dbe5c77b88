"""The options of loading a dataset, named once for both front ends: the command line's flag and the window's field.

The loaders' errors say what would fix them in the command line's words ("name the image array (--x-key)").
The window cannot take a flag: `for_window` rewrites every flag of this table into the field of the Open Dataset
dialog that sets the same option, so a fix never points to something the window does not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPEN_DATASET = "Open Dataset…"


@dataclass(frozen=True)
class LoadOption:
    """One load option: its keyword for `core.datasets.iter_load_dataset`, its flag, its dialog field."""

    key: str
    flag: str
    field: str
    help: str


DATA_OPTIONS: tuple[LoadOption, ...] = (
    LoadOption("x_key", "--x-key", "Image array", ".npz: the name of the image array"),
    LoadOption("y_key", "--y-key", "Label array", ".npz: the name of the label array"),
    LoadOption("labels", "--labels", "Labels file", ".npy/IDX: the file of labels, one per image"),
    LoadOption("shape", "--shape", "Resize to", "image folders: HxW to resize every image to, e.g. 64x64"),
    LoadOption("mode", "--mode", "Colour", "image folders: grey (L), colour (RGB) or as found (auto)"),
    LoadOption("attributes", "--attributes", "Attributes file", "image folders: CelebA's list_attr_celeba.txt"),
    LoadOption("limit", "--limit", "At most", "image folders: load at most this many images"),
)
BY_FLAG = {option.flag: option for option in DATA_OPTIONS}
FLAG = re.compile(r"(--[a-z][a-z0-9-]*)(?: (\S*\d\S*))?")  # a flag, and its example value ("--shape 64x64")


def field_name(option: LoadOption) -> str:
    return f'the "{option.field}" field of {OPEN_DATASET}'


def for_window(text: str) -> str:
    """``text`` with each dataset flag replaced by the dialog field that sets it; other text is kept."""

    def replace(match: re.Match) -> str:
        option = BY_FLAG.get(match.group(1))
        if option is None:
            return match.group(0)
        value = match.group(2)
        return f'"{value}" in {field_name(option)}' if value else field_name(option)

    return FLAG.sub(replace, text)
