"""``encode --engine ray`` on a real local Ray with 2 CPU workers: codes bit-identical to the in-process encoder,
unreadable images skipped and listed, a dying worker retried, a batch that keeps failing named."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.codes_file import read_codes
from latent_explorer.core.datasets import load_dataset
from latent_explorer.core.encoding import iter_encode
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import load_model

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]

from latent_explorer.scale.ray_encode import EncodeRequest, RayJobError, encode_with_ray, ray_session  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    with ray_session(num_cpus=2) as session:
        yield session


def test_codes_are_bit_identical_to_the_in_process_encoder(local_ray, digits_npz, tmp_path):
    model = load_model("demo:digits-conv-vae")
    dataset = load_dataset(digits_npz)
    expected = run_job(iter_encode(model, dataset, batch_size=64, call_size=64, seed=7))
    summary = run_job(encode_with_ray(EncodeRequest(model="demo:digits-conv-vae", data=str(digits_npz),
                                                    out=tmp_path / "codes", batch_size=64, call_size=64, seed=7,
                                                    workers=2)))
    assert summary.rows == 300 and len(summary.parts) == 5 and summary.variational
    got = read_codes(tmp_path / "codes")
    for part in ("z", "mu", "logvar", "recon_error", "labels"):
        assert np.array_equal(getattr(got.codes, part), getattr(expected, part)), part
    assert got.ids.tolist() == list(range(300))
    assert got.metadata.model_fingerprint == expected.model_key
    assert got.metadata.dataset_fingerprint == expected.data_key and got.metadata.seed == 7
    import pyarrow as pa
    import pyarrow.parquet as pq

    z_type = pq.read_schema(tmp_path / "codes" / summary.parts[0]).field("z").type
    assert pa.types.is_fixed_size_list(z_type) and z_type.list_size == 8  # plain Arrow, no Ray extension type
    assert z_type.value_type == pa.float32()


def test_an_unreadable_image_in_a_shard_is_skipped_and_listed(local_ray, digit_folder, tmp_path):
    summary = run_job(encode_with_ray(EncodeRequest(model="demo:digits-conv-vae", data=str(digit_folder),
                                                    out=tmp_path / "codes", batch_size=16, call_size=16, seed=0)))
    assert [p.rsplit("/", 1)[-1] for p, _ in summary.skipped] == ["005b.png"] and summary.rows == 40
    got = read_codes(tmp_path / "codes", fields=["id", "z", "mu", "label", "image_path"])
    assert got.class_names == ["digit0", "digit1"] and got.codes.labels.tolist() == [0] * 20 + [1] * 20
    assert 26 not in got.ids.tolist() and len(got.ids) == 40  # file 26 (digit1/005b.png) left a gap
    local = load_dataset(digit_folder)  # the in-process loader skips the same file and decodes the same pixels
    assert [p.rsplit("/", 1)[-1] for p, _ in local.skipped] == ["005b.png"]
    expected = run_job(iter_encode(load_model("demo:digits-conv-vae"), local, batch_size=16, call_size=16))
    assert np.allclose(got.codes.mu, expected.mu, atol=1e-5)
    assert got.image_paths[0].endswith("digit0/000.png")


def test_a_worker_that_dies_mid_batch_is_retried(local_ray, digits_npz, tmp_path, dying_model):
    manifest = dying_model(tmp_path / "dies-once", rows=16, always=False)
    np.savez(tmp_path / "d48.npz", x=load_dataset(digits_npz).images[:48])
    summary = run_job(encode_with_ray(EncodeRequest(model=str(manifest), data=str(tmp_path / "d48.npz"),
                                                    out=tmp_path / "codes", batch_size=16, call_size=16, retries=2,
                                                    allow_code=True)))
    assert (tmp_path / "dies-once" / "died").exists()  # a worker really died, and the job still finished
    assert summary.rows == 48
    # in this process only now: the marker exists, so this model no longer kills whoever runs it
    expected = run_job(iter_encode(load_model(manifest, allow_code=True), load_dataset(tmp_path / "d48.npz"),
                                   batch_size=16,
                                   call_size=16))
    assert np.array_equal(read_codes(tmp_path / "codes").codes.z, expected.z)


def test_a_batch_that_keeps_failing_is_named(local_ray, digits_npz, tmp_path, dying_model):
    manifest = dying_model(tmp_path / "always-dies", rows=16, always=True)
    np.savez(tmp_path / "d20.npz", x=load_dataset(digits_npz).images[:20])  # batch 0: 16 rows, batch 1: 4
    with pytest.raises(RayJobError, match=r"batch 0 \(rows 0–15\) failed"):
        run_job(encode_with_ray(EncodeRequest(model=str(manifest), data=str(tmp_path / "d20.npz"),
                                              out=tmp_path / "codes", batch_size=16, call_size=16, retries=1,
                                              allow_code=True)))
    from latent_explorer.core.errors import DatasetError

    with pytest.raises(DatasetError, match="half-written"):
        read_codes(tmp_path / "codes")  # the failed job's folder is never read as complete


def test_embed_places_chunks_in_ray_tasks_like_in_process(local_ray):
    from sklearn.datasets import load_digits

    from latent_explorer.scale.embed import EmbedRequest, iter_fit_and_place

    bunch = load_digits()
    data, labels = bunch.data[:360].astype(np.float32) / 16.0, bunch.target[:360]
    common = dict(codes=None, fit_sample=120, chunk=80, iterations=100, n_jobs=1)
    here = run_job(iter_fit_and_place(data, labels, EmbedRequest(**common)))
    there = run_job(iter_fit_and_place(data, labels, EmbedRequest(**common, engine="ray")))
    assert here[2] == there[2] == "transform"  # the fitted openTSNE map pickled and was shipped
    assert np.allclose(here[0], there[0], atol=1e-4)
