"""The layering rule: core/ never imports Qt; workers/ never import widgets; features never import each other
(import-linter contracts)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())  # the checkout


def test_import_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 kept, 0 broken" in result.stdout


def test_the_independence_contract_names_every_feature():
    import pkgutil

    import pytest

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    import latent_explorer.qt.features as features_pkg

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    independent = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "independence")
    packages = {f"latent_explorer.qt.features.{m.name}" for m in pkgutil.iter_modules(features_pkg.__path__)}
    assert set(independent["modules"]) == packages


def test_workers_use_qtcore_only():
    """import-linter cannot forbid sub-packages of PySide6, so check the workers' imports directly."""
    import ast

    for path in (ROOT / "latent_explorer" / "workers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("PySide6.QtWidgets", "PySide6.QtGui")), f"{path.name} imports {name}"


def test_core_runs_without_qt():
    """Import every core module in a fresh interpreter where PySide6 cannot be imported."""
    code = (
        "import sys, importlib, pkgutil\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt'):\n"
        "            raise ImportError('Qt is blocked in this test: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import latent_explorer.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'latent_explorer.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "import latent_explorer.cli\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
