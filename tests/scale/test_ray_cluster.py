"""The same command on a cluster: two Ray nodes simulated on this machine (``ray.cluster_utils.Cluster``),
reached through ``RAY_ADDRESS`` as a user would; the batches must be encoded on both nodes."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.cli import main
from latent_explorer.core.codes_file import read_codes
from latent_explorer.core.datasets import load_dataset
from latent_explorer.core.encoding import iter_encode
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import load_model

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def two_nodes():
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()


def test_encode_on_a_two_node_cluster_uses_both_nodes(two_nodes, digits_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAY_ADDRESS", two_nodes.address)
    out = tmp_path / "codes"
    code = main(["encode", "--engine", "ray", "--model", "demo:digits-conv-vae", "--data", str(digits_npz),
                 "--out", str(out), "--batch-size", "30", "--call-size", "30", "--seed", "2", "--workers", "2"])
    assert code == 0
    assert "on 2 node(s)" in capsys.readouterr().err
    assert not ray.is_initialized()  # the command disconnected; the cluster itself keeps running
    got = read_codes(out)
    expected = run_job(iter_encode(load_model("demo:digits-conv-vae"), load_dataset(digits_npz), batch_size=30,
                                   call_size=30, seed=2))
    assert np.array_equal(got.codes.z, expected.z) and np.array_equal(got.codes.mu, expected.mu)
