"""One self-contained HTML file: sections of text, figures embedded as data (PNG or SVG) and tables, with every
table also written as CSV in a folder beside it, and what produced it (command line, versions, inputs).

The HTML needs no network, no script and no other file to show: PNGs are base64 data URLs and SVGs inline.
Everything is written atomically — the CSV files first, the HTML last, so a report that exists is complete.
"""

from __future__ import annotations

import base64
import platform
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from importlib import metadata
from pathlib import Path

import numpy as np

from latent_explorer import __version__
from latent_explorer.core.analysis.export import write_csv
from latent_explorer.core.atomic import write_text_atomic
from latent_explorer.core.errors import LatentExplorerError

VERSIONED_PACKAGES = ("latent-explorer", "torch", "numpy", "scikit-learn", "openTSNE", "PySide6-Essentials",
                      "pyqtgraph")
HTML_ROWS = 40  # a longer table shows its first rows in the page; its CSV has them all
OPEN_ROWS = 16  # a table longer than this starts folded (its title stays visible)

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1560px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
figure { margin: 0; flex: 1 1 0; min-width: 360px; max-width: 820px; }
figure img, figure svg { width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #444; max-width: 760px; margin-top: .3em; }
.tables { display: flex; flex-wrap: wrap; gap: 0 2.5em; align-items: flex-start; }
details { margin: .5em 0; width: 100%; } summary { cursor: pointer; }
table { border-collapse: collapse; font-size: .88em; margin: .4em 0 1em; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
.note { color: #555; font-size: .9em; } code, pre { background: #f6f6f6; padding: .1em .3em; }
pre { padding: .6em; overflow-x: auto; white-space: pre-wrap; }
"""


class ReportError(LatentExplorerError):
    """A report that cannot be written (a bad output name, an unwritable folder)."""


@dataclass
class Figure:
    caption: str
    png: bytes | None = None
    svg: str | None = None

    def html(self) -> str:
        if self.png is not None:
            data = base64.b64encode(self.png).decode("ascii")
            body = f'<img alt="{escape(self.caption)}" src="data:image/png;base64,{data}">'
        else:
            body = self.svg or ""
        return f"<figure>{body}<figcaption>{escape(self.caption)}</figcaption></figure>"


@dataclass
class Table:
    name: str  # also the CSV file's stem
    title: str
    header: list[str]
    rows: list[list]
    folded: bool = False  # starts folded (its title stays visible)

    def html(self, csv_href: str) -> str:
        head = "".join(f"<th>{escape(str(h))}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>"
                       for row in self.rows[:HTML_ROWS])
        more = (f'<p class="note">first {HTML_ROWS} of {len(self.rows)} rows; all in <a href="{csv_href}">'
                f"{escape(csv_href)}</a></p>" if len(self.rows) > HTML_ROWS else
                f'<p class="note">CSV: <a href="{csv_href}">{escape(csv_href)}</a></p>')
        if self.folded:
            return (f"<details><summary><b>{escape(self.title)}</b> ({len(self.rows)} rows)</summary>"
                    f"<table><tr>{head}</tr>{body}</table>{more}</details>")
        return f"<div><h3>{escape(self.title)}</h3><table><tr>{head}</tr>{body}</table>{more}</div>"


@dataclass
class Section:
    title: str
    blocks: list[str | list[Figure] | Table] = field(default_factory=list)

    def text(self, paragraph: str) -> None:
        self.blocks.append(f"<p>{escape(paragraph)}</p>")

    def figures(self, figures: Sequence[Figure]) -> None:
        """Figures side by side (two models: one column each)."""
        self.blocks.append(list(figures))

    def table(self, name: str, title: str, header: Sequence[str], rows: Sequence[Sequence],
              folded: bool | None = None) -> None:
        """A table, also written as ``<name>.csv``; ``folded`` None folds tables longer than `OPEN_ROWS`."""
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ReportError(f"the table name '{name}' is not a plain file name")
        rows = [list(r) for r in rows]
        self.blocks.append(Table(name, title, list(header), rows,
                                 len(rows) > OPEN_ROWS if folded is None else folded))


@dataclass
class HtmlReport:
    title: str
    command: str
    inputs: dict[str, str] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))

    def section(self, title: str) -> Section:
        section = Section(title)
        self.sections.append(section)
        return section

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def write(self, path: str | Path) -> list[Path]:
        """Write the CSV tables into ``<stem>-tables/`` beside ``path``, then the HTML; return every file."""
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ReportError("a report is an HTML file", path=path, hint="name it e.g. report.html")
        if not path.parent.is_dir():
            raise ReportError("the folder does not exist", path=path.parent, hint="create it first")
        folder = path.with_name(f"{path.stem}-tables")
        names = [t.name for t in self.tables()]
        if len(set(names)) != len(names):
            raise ReportError(f"two tables share a name: {sorted(n for n in names if names.count(n) > 1)}")
        written = []
        try:
            folder.mkdir(exist_ok=True)
            for table in self.tables():
                written.append(write_csv(folder / f"{table.name}.csv", table.header, table.rows))
            write_text_atomic(path, self.html(folder.name))
        except OSError as exc:
            raise ReportError(f"cannot write the report ({exc.strerror or exc})", path=path,
                              hint="choose a folder you can write to") from exc
        return [*written, path]

    def html(self, tables_folder: str) -> str:
        parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(self.title)}</title>"
                 f"<style>{STYLE}</style></head><body><h1>{escape(self.title)}</h1>"]
        for section in self.sections:
            parts.append(f"<h2>{escape(section.title)}</h2>")
            tables: list[str] = []  # consecutive tables stand side by side
            for block in [*section.blocks, None]:
                if isinstance(block, Table):
                    tables.append(block.html(f"{tables_folder}/{block.name}.csv"))
                    continue
                if tables:
                    parts.append('<div class="tables">' + "".join(tables) + "</div>")
                    tables = []
                if block is None:
                    break
                if isinstance(block, list):
                    parts.append('<div class="figures">' + "".join(f.html() for f in block) + "</div>")
                else:
                    parts.append(block)
        parts.append(self._provenance())
        parts.append("</body></html>")
        return "\n".join(parts)

    def _provenance(self) -> str:
        rows = [("created", self.created), ("command", self.command), *self.inputs.items(),
                ("python", platform.python_version()), ("platform", platform.platform())]
        rows += [(name, version) for name, version in package_versions().items()]
        body = "".join(f"<tr><td>{escape(k)}</td><td style='text-align:left'><code>{escape(v)}</code></td></tr>"
                       for k, v in rows)
        return f"<h2>How this report was made</h2><table>{body}</table>"


def package_versions(names: Sequence[str] = VERSIONED_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages whose behaviour shapes the numbers ("not installed" when absent)."""
    out = {}
    for name in names:
        if name == "latent-explorer":
            out[name] = __version__  # the code that ran, whatever is installed
            continue
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as typed, quoted so that it can be pasted back into a shell."""
    import shlex

    args = list(sys.argv[1:] if argv is None else argv)
    return shlex.join(["latent-explorer", *args])


def _cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return str(value)
