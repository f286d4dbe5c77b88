"""Packaging: the desktop entry and AppStream metadata validate, the icons are rendered from their SVG, and the
PyInstaller spec collects the resources and demo weights and leaves CUDA out."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())  # the checkout
PACKAGING = ROOT / "packaging"
APP_ID = "io.github.latent_explorer.LatentExplorer"
ICONS = ROOT / "resources" / "icons"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: apt-get install "
                    f"{'desktop-file-utils' if name == 'desktop-file-validate' else 'appstream'})")
    return path


def test_desktop_entry_validates():
    entry = PACKAGING / f"{APP_ID}.desktop"
    result = subprocess.run([_tool("desktop-file-validate"), str(entry)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    text = entry.read_text()
    assert f"Icon={APP_ID}\n" in text and "Exec=latent-explorer" in text


def test_appstream_metainfo_validates():
    metainfo = PACKAGING / f"{APP_ID}.metainfo.xml"
    result = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", str(metainfo)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "E:" not in result.stdout and "W:" not in result.stdout, result.stdout
    text = metainfo.read_text()
    assert f"<id>{APP_ID}</id>" in text and f"<launchable type=\"desktop-id\">{APP_ID}.desktop" in text


def test_icons_are_rendered_from_the_svg(qapp):
    sys.path.insert(0, str(PACKAGING))
    try:
        import render_icons
    finally:
        sys.path.remove(str(PACKAGING))
    from PySide6.QtGui import QImage
    from PySide6.QtSvg import QSvgRenderer

    assert QSvgRenderer(str(render_icons.SVG)).isValid()
    for size in render_icons.SIZES:
        stored = QImage(str(render_icons.png_path(size)))
        assert (stored.width(), stored.height()) == (size, size), size
        fresh = render_icons.render(size).convertToFormat(stored.format())
        a = np.frombuffer(stored.constBits(), np.uint8).astype(int)
        b = np.frombuffer(fresh.constBits(), np.uint8).astype(int)
        assert np.abs(a - b).mean() < 2, f"latent-explorer-{size}.png is out of date: run packaging/render_icons.py"


def test_icons_ship_with_the_package():
    from importlib import resources

    from latent_explorer.resource_files import resource_path

    icons = resources.files("latent_explorer.resources") / "icons"
    assert (icons / "latent-explorer.svg").is_file() and (icons / "latent-explorer-256.png").is_file()
    assert resource_path("icons", "latent-explorer.svg").is_file()
    assert resource_path("demo").is_dir() and resource_path("screenshot.png").is_file()


def test_every_package_is_listed_for_the_build():
    """pyproject lists packages by hand (resources/ is mapped in); a new sub-package must be added there."""
    import tomllib
    from setuptools import find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(find_packages(str(ROOT), include=["latent_explorer*"])) | {"latent_explorer.resources"}
    assert set(config["packages"]) == found
    assert config["package-dir"] == {"latent_explorer.resources": "resources"}
    assert config["package-data"]["latent_explorer.resources"] == ["**/*"]


def test_wheel_contains_demo_models_icons_and_screenshot(tmp_path):
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "latent_explorer/resources/icons/latent-explorer.svg" in names
    assert "latent_explorer/resources/screenshot.png" in names
    assert any(n.startswith("latent_explorer/resources/demo/") and n.endswith("weights.safetensors") for n in names)


def _run_spec(monkeypatch) -> dict:
    """Execute the spec with PyInstaller's spec-file names stubbed, and return what it built."""
    built: dict = {}

    class Analysis:
        def __init__(self, scripts, pathex, binaries, datas, hiddenimports, excludes, noarchive):
            built["analysis"] = self
            self.scripts, self.datas, self.hiddenimports, self.excludes = scripts, datas, hiddenimports, excludes
            cuda = [("nvidia/cublas/lib/libcublas.so.12", "/venv/nvidia/cublas/lib/libcublas.so.12", "BINARY"),
                    ("torch/lib/libtorch_cuda.so", "/venv/torch/lib/libtorch_cuda.so", "BINARY"),
                    ("libcudnn.so.9", "/venv/nvidia/cudnn/lib/libcudnn.so.9", "BINARY")]
            self.binaries = list(binaries) + cuda + [("torch/lib/libtorch_cpu.so", "/venv/torch/lib/x.so", "BINARY")]
            self.pure = []

    def record(name):
        return lambda *args, **kwargs: built.setdefault(name, (args, kwargs))

    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_data_files = lambda package, **kwargs: []
    hooks.collect_dynamic_libs = lambda package, **kwargs: []
    hooks.collect_submodules = lambda package, **kwargs: [f"{package}.stub"]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    spec = PACKAGING / "latent-explorer.spec"
    namespace = {"SPECPATH": str(PACKAGING), "Analysis": Analysis, "PYZ": record("pyz"), "EXE": record("exe"),
                 "COLLECT": record("collect"), "__file__": str(spec)}
    exec(compile(spec.read_text(), str(spec), "exec"), namespace)  # noqa: S102 - our own spec file
    return built


def test_pyinstaller_spec_collects_resources_and_leaves_cuda_out(monkeypatch):
    built = _run_spec(monkeypatch)
    analysis = built["analysis"]
    assert analysis.scripts == [str(PACKAGING / "launcher.py")]
    targets = {Path(src).relative_to(ROOT).as_posix(): dest for src, dest in analysis.datas}
    assert targets["resources/icons/latent-explorer.svg"] == "latent_explorer/resources/icons"
    demo = [p for p in targets if p.startswith("resources/demo/")]
    if (ROOT / "resources" / "demo").exists():
        assert any(p.endswith("weights.safetensors") for p in demo) and any(p.endswith("config.json") for p in demo)
    assert not any(p.endswith("optimizer.safetensors") for p in targets)  # only needed to resume training
    names = [Path(dest).name for dest, *_ in analysis.binaries]
    assert names == ["libtorch_cpu.so"]  # every CUDA library filtered out
    assert "latent_explorer.stub" in analysis.hiddenimports  # panels are found at run time, not by imports
    assert {"pytest", "torchvision"} <= set(analysis.excludes)
    exe_args, exe_kwargs = built["exe"]
    assert exe_kwargs["name"] == "latent-explorer" and exe_kwargs["exclude_binaries"] is True
    assert built["collect"][1]["name"] == "latent-explorer"  # one folder: dist/latent-explorer/


def test_launcher_runs_the_command_line():
    tree = ast.parse((PACKAGING / "launcher.py").read_text())
    imported = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    assert ("latent_explorer.launch", "main") in imported  # the entry point that sets the threads up first
    result = subprocess.run([sys.executable, str(PACKAGING / "launcher.py"), "--version"], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("latent-explorer ")
