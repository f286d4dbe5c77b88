"""``encode --engine ray``: the project's encoder in a Ray Data actor pool, writing a Parquet codes dataset.

What runs where:

* the driver (where the command runs) lists the input, loads the model once to check it and read its
  fingerprint, cuts the rows into batches of ``batch_size`` aligned on row numbers, and writes the manifest;
* each actor (one per GPU where the cluster has GPUs, else one per CPU slot) loads the model with the project's
  own loader once, then for each batch reads its rows (`sources`), encodes them exactly as the in-process
  encoder does (the same model calls and per-sample noise: `encoding.encode_rows`), and writes one part file in
  the codes schema (``fixed_size_list<float32>`` columns built here, since Ray's own tensor type is unreadable
  elsewhere).

Because batches are aligned the same way and a VAE's noise depends only on (seed, row), the codes are
bit-identical to ``encode`` in-process run with the same number of torch threads as each actor
(``threads_per_worker``, 1 by default): some CPU kernels split their float sums by thread, so a different thread
count can change the last bit of a code. Ray restarts a dead actor and retries its batch (``retries`` times); a
batch that still fails ends the job with an error naming it. The manifest ``_SUCCESS`` is written last, so a
killed job leaves a dataset that is refused, never one that reads as complete.

Without ``RAY_ADDRESS`` Ray starts on this machine; with it, the same command runs on that cluster (the
input and the output folder must then be on storage every node sees, and every node needs this package).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.parquet_dataset import begin_dataset, finish_dataset
from latent_explorer.scale.sources import ArraySource, ImageListSource, open_source

RUNNING = "_running"  # batch-<k> markers of batches in flight, to name the batch when an actor dies
PART_NAME = "part-{:06d}.parquet"


class RayJobError(LatentExplorerError):
    """The distributed job could not start or did not finish (a batch failed after its retries)."""


def ray_module():
    """Ray, or a clear error naming the extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise RayJobError("the Ray engine needs Ray Data", hint='pip install "latent-explorer[scale]"') from exc
    return ray


@contextlib.contextmanager
def ray_session(num_cpus: int | None = None) -> Iterator[Any]:
    """Connect to ``RAY_ADDRESS`` when set, else start Ray on this machine; shut down only what we started."""
    ray = ray_module()
    started = False
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        try:
            if address:
                ray.init(address=address, logging_level="WARNING", log_to_driver=False)
            else:
                ray.init(num_cpus=num_cpus or 2, include_dashboard=False, logging_level="WARNING",
                         log_to_driver=False)
        except Exception as exc:  # ConnectionError, RuntimeError, ...: Ray's own
            where = f"the cluster at RAY_ADDRESS={address}" if address else "a local Ray"
            raise RayJobError(f"cannot start {where} ({exc})",
                              hint="check the address (ray status), or unset RAY_ADDRESS to run locally") from exc
        started = True
    quiet_ray_data(ray)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


ACTOR_START_TIMEOUT_S = 600  # a worker that cannot start in 10 minutes lacks resources: Ray says so


def quiet_ray_data(ray) -> None:
    """Our own progress replaces Ray Data's bars and its periodic execution logs."""
    import logging

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    with contextlib.suppress(AttributeError):
        context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


@dataclass
class EncodeRequest:
    """One ``encode --engine ray`` run: what to encode, with which model, into which folder."""

    model: str
    data: str
    out: Path
    data_options: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 512
    seed: int = 0
    workers: int | None = None  # actors; default: one per GPU, else one per CPU of the cluster
    retries: int = 3
    threads_per_worker: int = 1  # torch threads (and CPU slots) of each CPU actor
    call_size: int | None = None  # samples per model call (default: the in-process encoder's for the device)
    allow_code: bool = False  # consent to run a model.toml's code (python, TorchScript, .pt2, pickle)
    with_reconstruction: bool = True


@dataclass
class EncodeSummary:
    out: Path
    rows: int
    latent_dim: int
    variational: bool
    parts: list[str]
    skipped: list[tuple[str, str]]
    nodes: dict[str, int]  # node id → batches it encoded
    seconds: float


class BatchEncoder:
    """A Ray actor: the model loaded once, then one aligned batch per call, written as one part file."""

    def __init__(self, request: EncodeRequest, source: ImageListSource | ArraySource, schema_bytes: bytes,
                 device: str, threads: int):
        import pyarrow as pa
        import torch

        from latent_explorer.core.models import load_model

        torch.set_num_threads(max(1, threads))
        self.request = request
        self.source = source
        self.schema = pa.ipc.read_schema(pa.py_buffer(schema_bytes))
        from latent_explorer.core.consent import command_line_policy, install_policy

        install_policy(command_line_policy(request.allow_code))  # a worker neither recalls nor remembers consent
        self.model = load_model(request.model, device=device, allow_code=request.allow_code)
        self.running = Path(request.out) / RUNNING
        self.running.mkdir(parents=True, exist_ok=True)

    def __call__(self, batch) -> Any:
        import pyarrow as pa
        import ray

        out = []
        for row in batch.to_pylist():
            k, start, stop = int(row["batch"]), int(row["start"]), int(row["stop"])
            marker = self.running / f"batch-{k}"
            marker.write_text(f"{start} {stop}")
            try:
                out.append(self._encode(k, start, stop, json.loads(row["payload"])))
            except LatentExplorerError as exc:
                raise RayJobError(f"batch {k} (rows {start}–{stop - 1}) failed: {exc}") from exc
            except Exception as exc:  # user model code may raise anything; say which batch it was
                raise RayJobError(f"batch {k} (rows {start}–{stop - 1}) failed: {type(exc).__name__}: {exc}") from exc
            marker.unlink(missing_ok=True)
        node = ray.get_runtime_context().get_node_id()
        return pa.table({"batch": [o[0] for o in out], "rows": [o[1] for o in out], "part": [o[2] for o in out],
                         "skipped": [o[3] for o in out], "hash": [o[4] for o in out], "node": [node] * len(out)})

    def _encode(self, k: int, start: int, stop: int, payload: dict[str, Any]) -> tuple:
        from latent_explorer.core.codes_file import codes_table, write_codes_table
        from latent_explorer.core.encoding import encode_rows

        data = self.source.read(start, stop, payload)
        skipped = json.dumps(data.skipped)
        if len(data.ids) == 0:
            return k, 0, "", skipped, data.content_hash
        images = (data.images.astype(np.float32) / 255.0 if data.images.dtype == np.uint8
                  else np.asarray(data.images, np.float32))
        # the in-process encoder's own model calls and per-sample ε (batches start at multiples of the call size)
        rows = encode_rows(self.model, images, start, self.request.seed, self.request.with_reconstruction,
                           self.request.call_size)
        columns: dict[str, Any] = {"id": data.ids}
        if data.labels is not None:
            columns["label"] = data.labels
        columns["z"] = rows.z
        if rows.mu is not None:
            columns.update(mu=rows.mu, logvar=rows.logvar)
        if not np.isfinite(columns["z"]).all():
            raise RayJobError("the encoder produced NaN or infinite codes",
                              hint="check the model's weights and input_range")
        if rows.recon_error is not None:
            columns["recon_error"] = rows.recon_error
        if data.image_paths is not None and "image_path" in self.schema.names:
            columns["image_path"] = data.image_paths
        name = PART_NAME.format(k)
        write_codes_table(Path(self.request.out) / name, codes_table(columns, schema=self.schema))
        return k, len(data.ids), name, skipped, data.content_hash


def encode_with_ray(request: EncodeRequest) -> Job[EncodeSummary]:
    """Run the job on the Ray this process is connected to (see `ray_session`); yields progress per batch."""
    from latent_explorer.core.codes_file import CodesMetadata, codes_schema
    from latent_explorer.core.models import load_model

    ray = ray_module()
    if not ray.is_initialized():
        raise RayJobError("Ray is not running", hint="call encode_with_ray inside ray_session()")
    t0 = time.perf_counter()
    yield Progress("listing the input", 0, None)
    source = open_source(request.data, request.data_options)
    n = len(source)
    model = load_model(request.model, device="cpu", allow_code=request.allow_code)
    if tuple(model.input_shape) != tuple(source.image_shape):
        from latent_explorer.core.errors import ModelError

        raise ModelError(f"the model takes images of shape {list(model.input_shape)}, the dataset has "
                         f"{list(source.image_shape)}", path=request.data,
                         hint="give --shape and --mode for image folders, or the dataset the model was trained on")
    yield Progress("fingerprinting the input", 0, None)
    metadata = CodesMetadata(model_fingerprint=model.fingerprint(), dataset_fingerprint=source.fingerprint(),
                             label_names=source.class_names, seed=request.seed)
    has_labels = getattr(source, "labels", None) is not None or (
        isinstance(source, ArraySource) and source.dataset().labels is not None)
    schema = codes_schema(model.latent_dim, variational=model.is_variational,
                          labels="int" if has_labels else None, recon_error=request.with_reconstruction,
                          image_paths=isinstance(source, ImageListSource), metadata=metadata)
    out = begin_dataset(request.out, {"rows_in": n, "model": request.model, "data": request.data})
    for stale in (out / RUNNING).glob("batch-*"):  # markers of an earlier, failed run
        stale.unlink(missing_ok=True)
    from latent_explorer.core.encoding import aligned_batch_size

    step = aligned_batch_size(model, request.batch_size, request.call_size)  # batches start model calls
    bounds = [(k, s, min(n, s + step)) for k, s in enumerate(range(0, n, step))]
    items = [{"batch": k, "start": s, "stop": e, "payload": json.dumps(source.batch_payload(s, e))}
             for k, s, e in bounds]
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    threads = max(1, request.threads_per_worker)
    slots = gpus if gpus else max(1, int(resources.get("CPU", 1)) // threads)
    workers = max(1, min(request.workers or slots, len(bounds)))
    per_actor = {"num_gpus": 1} if gpus else {"num_cpus": threads}
    # every actor of the pool is started (its model loaded) before the first batch goes out: otherwise the
    # first actor ready takes every batch of a short job and the other workers, or nodes, sit idle
    ray.data.DataContext.get_current().wait_for_min_actors_s = ACTOR_START_TIMEOUT_S
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    with warnings.catch_warnings():
        # Ray 2.60 has no named parameter for actor restarts yet; its remote-args form is all there is
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*", category=DeprecationWarning)
        ds = ds.map_batches(BatchEncoder, batch_size=1, batch_format="pyarrow",
                            compute=ray.data.ActorPoolStrategy(size=workers),
                            fn_constructor_args=(request, source, schema.serialize().to_pybytes(),
                                                 "cuda" if gpus else "cpu", threads),
                            max_restarts=request.retries, max_task_retries=request.retries, **per_actor)
    done: dict[int, dict[str, Any]] = {}
    yield Progress("encoding on Ray", 0, n, f"{len(bounds)} batches on {workers} {'GPU' if gpus else 'CPU'} "
                                            f"workers")
    try:
        for row in ds.iter_rows():
            done[int(row["batch"])] = row
            rows_done = sum(bounds[k][2] - bounds[k][1] for k in done)
            yield Progress("encoding on Ray", rows_done, n)
    except GeneratorExit:
        raise
    except Exception as exc:  # Ray wraps worker failures in its own exception types
        raise _job_error(exc, out, bounds, done) from None
    missing = [k for k, _, _ in bounds if k not in done]
    if missing:
        raise RayJobError(f"{len(missing)} batches never came back (first: batch {missing[0]})", path=out,
                          hint="run the job again")
    parts = [done[k]["part"] for k, _, _ in bounds if done[k]["part"]]
    skipped = [tuple(s) for k, _, _ in bounds for s in json.loads(done[k]["skipped"])]
    rows = sum(int(done[k]["rows"]) for k, _, _ in bounds)
    if rows == 0:
        raise RayJobError(f"none of the {n} images could be read", path=request.data)
    nodes: dict[str, int] = {}
    for row in done.values():
        nodes[row["node"]] = nodes.get(row["node"], 0) + 1
    with contextlib.suppress(OSError):
        (out / RUNNING).rmdir()
    finish_dataset(out, parts, rows, {"skipped": len(skipped), "batches": len(bounds),
                                      "model_fingerprint": metadata.model_fingerprint,
                                      "dataset_fingerprint": metadata.dataset_fingerprint})
    yield Progress("encoding on Ray", n, n)
    return EncodeSummary(out=out, rows=rows, latent_dim=model.latent_dim, variational=model.is_variational,
                         parts=parts, skipped=skipped, nodes=nodes, seconds=time.perf_counter() - t0)


def _job_error(exc: Exception, out: Path, bounds: list[tuple[int, int, int]], done: dict) -> RayJobError:
    """Name the batch that failed: from our own message when the model raised, else from the in-flight markers."""
    text = str(exc)
    named = re.search(r"batch (\d+) \(rows \d+–\d+\) failed: [^\n]*", text)
    if named:
        return RayJobError(named.group(0).strip(), path=out, hint="fix the input or the model and run the job again")
    in_flight = sorted(int(p.name.split("-")[1]) for p in (out / RUNNING).glob("batch-*")
                       if int(p.name.split("-")[1]) not in done)
    first = text.strip().splitlines()[-1] if text.strip() else type(exc).__name__
    if in_flight:
        k, s, e = bounds[in_flight[0]]
        return RayJobError(f"batch {k} (rows {s}–{e - 1}) failed: its worker died and the retries ran out "
                           f"({first})", path=out, hint="look for out-of-memory or crashes in the Ray logs; "
                                                        "a smaller --batch-size needs less memory")
    return RayJobError(f"the Ray job failed ({first})", path=out, hint="see the Ray logs (ray logs / dashboard)")
