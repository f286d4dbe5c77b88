"""Plugins through the entry point group: a fake installed distribution adds a loader, a format and a projection;
broken entries are reported with their error and skipped, never fatal."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

import latent_explorer as lx
import latent_explorer.core.plugins as plugins_module
from latent_explorer.cli import main
from latent_explorer.core.plugins import GROUP, PluginError, PluginRegistry, list_plugins

PLUGIN_SOURCE = '''
import numpy as np
from latent_explorer.core.datasets import Dataset

def load_blobs(spec, **options):
    n = int(spec.split(":", 1)[1])
    return Dataset(name="blobs", images=np.zeros((n, 1, 4, 4), np.uint8), source=spec)

def first_two(data, scale=1.0):
    yield from ()
    return data[:, :2] * scale

def register(registry):
    registry.add_dataset_loader("blobs", load_blobs, prefixes=("blobs:",))
    registry.add_projection("first-two", first_two)

def crash(registry):
    registry.add_projection("half-done", first_two)
    raise RuntimeError("cannot find my GPU")

def takes_a_taken_name(registry):
    registry.add_projection("first-two", first_two)

not_a_function = 42
'''

ENTRY_POINTS = f"""
[{GROUP}]
blobs = fake_lx_plugin:register
crashes = fake_lx_plugin:crash
duplicate = fake_lx_plugin:takes_a_taken_name
missing = fake_lx_plugin_gone:register
not-callable = fake_lx_plugin:not_a_function
"""


@pytest.fixture
def fake_plugin(tmp_path, monkeypatch):
    """A distribution 'fake-lx-plugin 1.2.3' installed on sys.path, as pip would leave it."""
    (tmp_path / "fake_lx_plugin.py").write_text(PLUGIN_SOURCE)
    info = tmp_path / "fake_lx_plugin-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-lx-plugin\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins_module.plugins(reload=True)
    yield
    monkeypatch.undo()
    plugins_module.plugins(reload=True)


def test_plugins_listed_with_versions_and_broken_ones_skipped(fake_plugin):
    infos = {i.name: i for i in list_plugins() if i.distribution == "fake-lx-plugin"}
    assert set(infos) == {"blobs", "crashes", "duplicate", "missing", "not-callable"}
    assert infos["blobs"].ok and infos["blobs"].version == "1.2.3"
    assert infos["blobs"].adds == ["dataset loader 'blobs'", "projection 'first-two'"]
    assert "cannot find my GPU" in infos["crashes"].error
    assert "already added by blobs" in infos["duplicate"].error
    assert "ModuleNotFoundError" in infos["missing"].error
    assert "not a function" in infos["not-callable"].error
    registry = plugins_module.plugins()[0]
    assert registry.names("projection") == ["first-two"]  # the crashed plugin's half-done addition is undone


def test_plugin_loader_and_projection_through_the_api(fake_plugin):
    data = lx.load_dataset("blobs:6")
    assert data.name == "blobs" and len(data) == 6
    layout = lx.project(np.arange(12.0).reshape(4, 3), "first-two", scale=2.0)
    np.testing.assert_array_equal(layout, np.arange(12.0).reshape(4, 3)[:, :2] * 2)
    with pytest.raises(PluginError, match="no projection named 'pacmap'") as err:
        lx.project(np.zeros((4, 3)), "pacmap")
    assert "first-two" in err.value.hint
    assert any("fake-lx-plugin 1.2.3" in line for line in lx.plugins())


def test_plugins_command(fake_plugin, capsys):
    assert main(["plugins", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["blobs"]["version"] == "1.2.3" and rows["crashes"]["error"]
    assert main(["plugins"]) == 0
    assert "skipped, RuntimeError: cannot find my GPU" in capsys.readouterr().out


def test_bad_results_from_plugins_are_reported():
    registry = PluginRegistry()
    registry.add_projection("wrong-shape", lambda data: data)
    registry.add_dataset_loader("not-a-dataset", lambda spec: [1, 2], suffixes=(".weird",))
    with pytest.raises(PluginError, match=r"returned shape \(3, 3\)"):
        plugins_module.run_projection(registry.get("projection", "wrong-shape"), np.zeros((3, 3)))
    item = registry.loader_for("dataset loader", "x.WEIRD")
    with pytest.raises(PluginError, match="returned list, not a Dataset"):
        plugins_module.load_dataset_with(item, "x.WEIRD")
    with pytest.raises(PluginError, match="not callable"):
        registry.add_dock("panel", "not a factory")
