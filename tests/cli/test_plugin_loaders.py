"""A plugin's dataset loader and model format serve ``--data`` / ``--model`` on the command line and in the window."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import latent_explorer.core.plugins as plugins_module
from latent_explorer.cli import main
from latent_explorer.core.codes_file import read_codes
from latent_explorer.core.models import demo_models

pytestmark = pytest.mark.skipif("digits-conv-ae" not in demo_models(), reason="the digits AE demo is not built")

PLUGIN_SOURCE = '''
from latent_explorer.core.datasets import load_digits
from latent_explorer.core.models import load_model

CALLS = []

def load_rows(spec, **options):
    CALLS.append(("data", spec))
    n = int(spec.split(":", 1)[1])
    return load_digits().subset(list(range(n)), name=f"digit-rows-{n}")

def load_zoo(spec, device=None):
    CALLS.append(("model", spec))
    return load_model("demo:" + spec.split(":", 1)[1], device=device or "cpu")

def register(registry):
    registry.add_dataset_loader("digit-rows", load_rows, prefixes=("rows:",))
    registry.add_model_format("zoo", load_zoo, prefixes=("zoo:",), suffixes=(".zoo",))
'''


@pytest.fixture
def zoo_plugin(tmp_path, monkeypatch):
    """A distribution 'lx-zoo 0.1' installed on sys.path, with a loader for rows:N and a format for zoo:NAME."""
    (tmp_path / "lx_zoo_plugin.py").write_text(PLUGIN_SOURCE)
    info = tmp_path / "lx_zoo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lx-zoo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(f"""
        [{plugins_module.GROUP}]
        zoo = lx_zoo_plugin:register
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins_module.plugins(reload=True)
    import lx_zoo_plugin

    lx_zoo_plugin.CALLS.clear()
    yield lx_zoo_plugin.CALLS
    monkeypatch.undo()
    plugins_module.plugins(reload=True)


def test_encode_takes_data_and_model_from_the_plugin(zoo_plugin, tmp_path):
    out = tmp_path / "codes.npz"
    assert main(["encode", "--data", "rows:40", "--model", "zoo:digits-conv-ae", "--out", str(out),
                 "--no-cache"]) == 0
    assert zoo_plugin == [("data", "rows:40"), ("model", "zoo:digits-conv-ae")]
    codes = read_codes(out).codes
    assert codes.z.shape == (40, 8)
    # the same codes as the built-in loaders give for the same rows and model
    from latent_explorer.core.datasets import load_digits
    from latent_explorer.core.encoding import iter_encode
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import load_model

    expected = run_job(iter_encode(load_model("demo:digits-conv-ae", device="cpu"),
                                   load_digits().subset(np.arange(40))))
    np.testing.assert_allclose(codes.z, expected.z, atol=1e-5)


def test_info_reads_a_plugin_model_and_a_spec_no_plugin_claims_is_ours(zoo_plugin, capsys):
    assert main(["info", "zoo:digits-conv-ae", "--json"]) == 0
    assert '"input_shape"' in capsys.readouterr().out and zoo_plugin == [("model", "zoo:digits-conv-ae")]
    assert main(["info", "demo:digits-conv-ae", "--json"]) == 0
    assert zoo_plugin == [("model", "zoo:digits-conv-ae")]  # not called for a built-in spec


def test_the_windows_loader_uses_the_plugin(zoo_plugin, main_window, qtbot):
    main_window.open_dataset("rows:64", then_model="zoo:digits-conv-ae")
    qtbot.waitUntil(lambda: main_window.state.codes is not None and not main_window.runner.is_running(),
                    timeout=60000)
    assert main_window.last_error is None
    assert len(main_window.state.codes) == 64 and main_window.state.dataset.name == "digit-rows-64"
    assert ("data", "rows:64") in zoo_plugin and ("model", "zoo:digits-conv-ae") in zoo_plugin
