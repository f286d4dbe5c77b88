"""The About dialog: what a bug report needs — versions, the device, the log file — and the plugins' state."""

from __future__ import annotations

import html
import importlib.metadata as metadata
import platform
import sys
from dataclasses import dataclass, field

from PySide6.QtCore import QUrl, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QTextBrowser, QVBoxLayout

from latent_explorer import __version__
from latent_explorer.core.logs import default_log_path, log_file, log_problem
from latent_explorer.core.plugins import PluginInfo, list_plugins
from latent_explorer.qt.context import FeatureContext

# distributions whose versions matter in a bug report, read from their metadata (nothing is imported for this)
COMPONENTS = ("torch", "numpy", "scikit-learn", "openTSNE", "umap-learn", "pyqtgraph", "PySide6-Essentials",
              "psygnal", "pyarrow")


@dataclass
class AboutFacts:
    """What the dialog shows, apart from the widgets (tests and bug reports read it)."""

    version: str
    python: str
    qt: str
    components: list[tuple[str, str]]
    device: str
    log: str  # the file, or why there is none
    plugins: list[PluginInfo] = field(default_factory=list)

    def as_text(self) -> str:
        lines = [f"Latent Explorer {self.version}", f"Python {self.python}", f"Qt {self.qt}"]
        lines += [f"{name} {version}" for name, version in self.components]
        lines += [f"device: {self.device}", f"log file: {self.log}", "plugins:"]
        lines += [f"  {info.describe()}" for info in self.plugins] or ["  none installed"]
        return "\n".join(lines)


def distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_facts(model=None) -> AboutFacts:
    """Gather the facts now: the plugins are reread, so one installed since start-up shows as installed."""
    path, problem = log_file(), log_problem()
    if path is not None:
        log = str(path)
    elif problem:
        log = f"none ({problem})"
    else:
        log = f"none in this process (the window started from the command line logs to {default_log_path()})"
    return AboutFacts(version=__version__, python=f"{platform.python_version()} ({sys.executable})", qt=qVersion(),
                      components=[(name, distribution_version(name)) for name in COMPONENTS],
                      device=str(model.device) if model is not None else "no model loaded", log=log,
                      plugins=list_plugins(reload=True))


def facts_html(facts: AboutFacts) -> str:
    rows = [("Python", facts.python), ("Qt", facts.qt), *facts.components, ("device", facts.device),
            ("log file", facts.log)]
    table = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    if facts.plugins:
        items = "".join(
            f"<li><b>{html.escape(p.name)}</b> ({html.escape(p.distribution)} {html.escape(p.version)}): "
            + (html.escape("; ".join(p.adds) or "adds nothing") if p.ok
               else f"<span style='color:#b00020'>skipped: {html.escape(p.error or '')}</span>") + "</li>"
            for p in facts.plugins)
        plugins = f"<ul>{items}</ul>"
    else:
        plugins = ("<p>None installed. A package adds one through the <code>latent_explorer.plugins</code> "
                   "entry point group.</p>")
    return (f"<h3>Latent Explorer {html.escape(facts.version)}</h3>"
            "<p>Look inside the latent space of autoencoders and VAEs.</p>"
            f"<table>{table}</table><h4>Plugins</h4>{plugins}")


class AboutDialog(QDialog):
    """Non-modal; its text can be selected and copied into a bug report; a button opens the log's folder."""

    def __init__(self, context: FeatureContext):
        super().__init__(context.parent)
        self.context = context
        self.setWindowTitle("About Latent Explorer")
        self.resize(560, 520)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        self.open_log_button = QPushButton("Open Log Folder")
        self.open_log_button.clicked.connect(self.open_log_folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.open_log_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(QLabel("Select the text to copy it into a bug report."))
        layout.addWidget(buttons)
        self.facts: AboutFacts | None = None
        self.refresh()

    def refresh(self) -> None:
        self.facts = about_facts(self.context.state.model)
        self.text.setHtml(facts_html(self.facts))
        self.open_log_button.setEnabled(log_file() is not None)

    def open_log_folder(self) -> bool:
        path = log_file()
        return path is not None and QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
