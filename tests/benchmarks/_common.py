"""The convention every benchmark follows.

``python tests/benchmarks/NAME.py [--quick] [--json PATH]`` prints a readable table and, with ``--json``, writes
``{"figures": [{"name", "value", "unit", "baseline", "ratio", "target", "ok"}]}``. Baselines are measured in
the same process as the figure they are compared with, because these machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str | None = None  # e.g. "<= 16" or ">= 0.9 (ratio)"
    ok: bool | None = None


class Bench:
    """Collects figures, prints them as a table and writes the JSON file."""

    def __init__(self, title: str, description: str = ""):
        parser = argparse.ArgumentParser(description=description or title)
        parser.add_argument("--quick", action="store_true", help="a short run (smaller sizes, fewer repeats)")
        parser.add_argument("--json", help="write the figures to this JSON file")
        self.parser = parser
        self.title = title
        self.figures: list[Figure] = []

    def parse(self, argv: list[str] | None = None) -> argparse.Namespace:
        self.args = self.parser.parse_args(argv)
        return self.args

    @property
    def quick(self) -> bool:
        return bool(getattr(self, "args", None) and self.args.quick)

    def add(self, name: str, value: float, unit: str, baseline: float | None = None, ratio: float | None = None,
            target: str | None = None) -> Figure:
        if ratio is None and baseline:
            ratio = value / baseline
        ok = None
        if target:
            op, _, rest = target.partition(" ")
            limit = float(rest.split()[0])
            checked = ratio if "(ratio)" in target else value
            if checked is not None:
                ok = checked <= limit if op == "<=" else checked >= limit
        fig = Figure(name, float(value), unit, None if baseline is None else float(baseline),
                     None if ratio is None else float(ratio), target, ok)
        self.figures.append(fig)
        print(self._row(fig), flush=True)
        return fig

    @staticmethod
    def _row(f: Figure) -> str:
        base = f"{f.baseline:10.3f}" if f.baseline is not None else " " * 10
        ratio = f"{f.ratio:7.3f}" if f.ratio is not None else " " * 7
        verdict = {True: "ok", False: "MISS", None: ""}[f.ok]
        return f"  {f.name:<48} {f.value:12.3f} {f.unit:<6} {base} {ratio}  {f.target or '':<20} {verdict}"

    def header(self) -> None:
        print(f"\n{self.title}")
        print(f"  {'figure':<48} {'value':>12} {'unit':<6} {'baseline':>10} {'ratio':>7}  {'target':<20}")

    def finish(self) -> int:
        if getattr(self.args, "json", None):
            Path(self.args.json).write_text(json.dumps({"title": self.title,
                                                        "figures": [asdict(f) for f in self.figures]}, indent=2))
        return 0


def timed(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> list[float]:
    """Wall times in milliseconds of ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q))
