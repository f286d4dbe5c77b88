"""The schemas of ``model.toml`` and a checkpoint's ``config.json``: one typed loader, checked before anything is built.

Each key has a parser that either returns the typed value or says what was expected; `validate` turns any
problem into a `ModelError` carrying the file, the key, the value found and what was expected. Unknown keys are
named (with the closest known key), because a typo such as ``input_shap`` otherwise silently means "default".
A small loader instead of a schema library: the app has two small formats and no other use for one.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latent_explorer.core.errors import ModelError
from latent_explorer.core.limits import Limits, current_limits
from latent_explorer.core.models.base import DECODER_OUTPUTS, ENCODER_OUTPUTS
from latent_explorer.core.models.builtin import ARCHITECTURES


class Invalid(ValueError):
    """Raised by a parser: ``expected`` says what the key should hold."""

    def __init__(self, expected: str):
        self.expected = expected
        super().__init__(expected)


Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Key:
    """One key of a file: how to parse it, whether it must be there, and its default."""

    name: str
    parse: Parser
    required: bool = False
    default: Any = None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate(data: Any, keys: list[Key], path: Path, *, allowed_extra: tuple[str, ...] = (),
             what: str = "file") -> dict[str, Any]:
    """Parse ``data`` (the decoded TOML/JSON) against ``keys``; the result holds every key, defaults filled in."""
    if not isinstance(data, Mapping):
        raise ModelError(f"the {what} holds a {type(data).__name__}, not a table of keys", path=path,
                         hint="the file must be an object of key = value pairs")
    known = {k.name: k for k in keys}
    unknown = [k for k in data if k not in known and k not in allowed_extra]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(str(name), list(known), n=1)
            hints.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise ModelError(f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(hints)}", path=path,
                         hint=f"known keys: {', '.join(known)}")
    out: dict[str, Any] = {}
    for key in keys:
        if key.name not in data:
            if key.required:
                raise ModelError(f"the key '{key.name}' is missing", path=path,
                                 hint=f"add {key.name} = …: {_expected(key.parse)}")
            out[key.name] = key.default
            continue
        try:
            out[key.name] = key.parse(data[key.name])
        except Invalid as exc:
            raise ModelError(f"{key.name} = {_show(data[key.name])}: expected {exc.expected}", path=path,
                             hint=f"set {key.name} to {exc.expected}") from None
    return out


def _expected(parser: Parser) -> str:
    return getattr(parser, "expected", "a valid value")


def _described(expected: str):
    def wrap(fn: Parser) -> Parser:
        fn.expected = expected  # type: ignore[attr-defined]
        return fn
    return wrap


# ---------------------------------------------------------------------------------------------- parsers
def integer(lo: int, hi: int) -> Parser:
    expected = f"a whole number from {lo:,} to {hi:,}"

    @_described(expected)
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise Invalid(expected)
        return int(value)
    return parse


def number(lo: float, hi: float, *, open_low: bool = False) -> Parser:
    expected = f"a finite number {'above' if open_low else 'from'} {lo:g} {'and up to' if open_low else 'to'} {hi:g}"

    @_described(expected)
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise Invalid(expected)
        if value < lo or value > hi or (open_low and value == lo):
            raise Invalid(expected)
        return float(value)
    return parse


def choice(*options: str) -> Parser:
    expected = "one of " + ", ".join(f'"{o}"' for o in options)

    @_described(expected)
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise Invalid(expected)
        return value
    return parse


def text(max_len: int = 200, pattern: str | None = None, expected: str = "a string") -> Parser:
    regex = re.compile(pattern) if pattern else None

    @_described(expected)
    def parse(value: Any) -> str:
        if not isinstance(value, str) or not value or len(value) > max_len or "\x00" in value:
            raise Invalid(expected)
        if regex is not None and not regex.fullmatch(value):
            raise Invalid(expected)
        return value
    return parse


IDENTIFIER = text(100, r"[A-Za-z_][A-Za-z0-9_]*", "a Python name such as \"encode\"")
RELATIVE_FILE = text(1000, None, "a file name, relative to the manifest's folder")


def image_shape(limits: Limits | None = None) -> Parser:
    limits = limits or current_limits()
    expected = (f"[C, H, W]: C from 1 to {limits.max_channels}, H and W from 1 to {limits.max_image_side} "
                "(whole numbers)")

    @_described(expected)
    def parse(value: Any) -> tuple[int, int, int]:
        if not isinstance(value, (list, tuple)) or len(value) != 3:
            raise Invalid(expected)
        if any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise Invalid(expected)
        c, h, w = (int(v) for v in value)
        if not (1 <= c <= limits.max_channels and 1 <= h <= limits.max_image_side and 1 <= w <= limits.max_image_side):
            raise Invalid(expected)
        return c, h, w
    return parse


@_described("[low, high]: two finite numbers with low < high")
def value_range(value: Any) -> tuple[float, float]:
    expected = "[low, high]: two finite numbers with low < high"
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise Invalid(expected)
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in value):
        raise Invalid(expected)
    lo, hi = float(value[0]), float(value[1])
    if not lo < hi:
        raise Invalid(expected)
    return lo, hi


@_described("a list of strings (one class name per class id)")
def string_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > 1_000_000:
        raise Invalid("a list of strings (one class name per class id)")
    return list(value)


@_described("a table of keyword arguments")
def table(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise Invalid("a table of keyword arguments, e.g. { z_dim = 16 }")
    return dict(value)


@_described("a list of rows, each with a finite number 'loss'")
def history_rows(value: Any) -> list[dict[str, float]]:
    expected = "a list of rows, each with a finite number 'loss' (and other numbers)"
    if not isinstance(value, list):
        raise Invalid(expected)
    rows = []
    for row in value:
        if not isinstance(row, Mapping) or "loss" not in row:
            raise Invalid(expected)
        clean = {}
        for k, v in row.items():
            if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, (int, float)):
                raise Invalid(expected)
            clean[k] = float(v)
        if not math.isfinite(clean["loss"]):
            raise Invalid(expected)
        rows.append(clean)
    return rows


# ---------------------------------------------------------------------------------------- model.toml
MODEL_FORMATS = ("torch.export", "torchscript", "python", "pickle")
FORMAT_FILES = {"torch.export": ("encoder", "decoder"), "torchscript": ("file",), "pickle": ("file",),
                "python": ("source", "weights")}


def manifest_keys(limits: Limits | None = None) -> list[Key]:
    return [
        Key("format", choice(*MODEL_FORMATS), required=True),
        Key("input_shape", image_shape(limits), required=True),
        Key("name", text(200, None, "a short name")),
        Key("input_range", value_range, default=(0.0, 1.0)),
        Key("encoder_output", choice(*ENCODER_OUTPUTS), default="z"),
        Key("decoder_output", choice(*DECODER_OUTPUTS), default="probabilities"),
        Key("encode_method", IDENTIFIER, default="encode"),
        Key("decode_method", IDENTIFIER, default="decode"),
        Key("class_names", string_list),
        Key("source", RELATIVE_FILE),
        Key("factory", IDENTIFIER, default="build_model"),
        Key("kwargs", table, default={}),
        Key("weights", RELATIVE_FILE),
        Key("file", RELATIVE_FILE),
        Key("encoder", RELATIVE_FILE),
        Key("decoder", RELATIVE_FILE),
    ]


def validate_manifest(data: Any, path: Path, limits: Limits | None = None) -> dict[str, Any]:
    """A ``model.toml`` as typed values; the keys its format needs must be there."""
    out = validate(data, manifest_keys(limits), path, what="manifest")
    for key in FORMAT_FILES[out["format"]]:
        if out[key] is None:
            raise ModelError(f"the manifest has no '{key}' key, which format '{out['format']}' needs", path=path,
                             hint=f"add {key} = \"<file name>\" (relative to the manifest's folder)")
    return out


# ---------------------------------------------------------------------------------------- config.json
CHECKPOINT_FORMAT = "latent-explorer-checkpoint"


def config_keys(limits: Limits | None = None) -> list[Key]:
    limits = limits or current_limits()
    return [
        Key("format", choice(CHECKPOINT_FORMAT), required=True),
        Key("version", integer(1, 1), default=1),
        Key("arch", choice(*ARCHITECTURES), required=True),
        Key("z_dim", integer(1, limits.max_latent_dim), required=True),
        Key("input_shape", image_shape(limits), required=True),
        Key("beta", number(0.0, 1e6), default=1.0),
        Key("lr", number(0.0, 10.0, open_low=True), default=1e-3),
        Key("batch_size", integer(1, 1 << 20), default=128),
        Key("epochs", integer(0, 1_000_000), default=10),
        Key("seed", integer(0, 2**63 - 1), default=0),
        Key("input_range", value_range, default=(0.0, 1.0)),
        Key("dataset", table, default={}),
        Key("class_names", string_list),
        Key("epochs_done", integer(0, 1_000_000), default=0),
        Key("history", history_rows, default=[]),
    ]


def validate_config(data: Any, path: Path, limits: Limits | None = None) -> dict[str, Any]:
    """A checkpoint's ``config.json`` as typed values (the `TrainConfig` fields plus format and version)."""
    return validate(data, config_keys(limits), path, what="checkpoint config")
