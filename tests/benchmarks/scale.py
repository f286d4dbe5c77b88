"""Seed scale on one machine, and past it: 200,000 64×64 JPEGs through the image cache, streaming encoding,
Ray encoding, and t-SNE by fit-and-place.

Parts (``--part``, default all but ``embed``):

* ``load``: the app's loader (thread pool into the memory-mapped cache; cold, then warm from the cache) against a
  bare single-threaded PIL loop into one in-memory array. Each runs in its own child process so that its peak
  memory is its own: ``ru_maxrss`` and the growth of anonymous memory (RssAnon sampled every 20 ms, minus what the
  imports hold), which is what the loader really holds; file pages of the cache are the kernel's, reclaimable.
* ``encode``: encoding throughput streaming batches from the cache (the app's ``iter_encode``) against a bare
  torch loop over the same memory map, interleaved in one process; and the peak memory of streaming the whole
  folder (child process).
* ``ray``: ``encode --engine ray`` on 2 local CPU workers against the in-process encoder (ratio; Ray's start-up
  counted separately).
* ``embed``: 70,000 Fashion-MNIST codes (demo:fashion-conv-vae): openTSNE fit on 20,000 + transform of 50,000
  against one full run: time, recall@10 of latent neighbours in the map, and KL. Slow; run it alone.

The folder is generated once (``--dir``, default under /tmp) and reused.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from _common import Bench

HERE = Path(__file__).resolve()
SIDE = 64


# ------------------------------------------------------------------------------------------- the folder
def generate_folder(root: Path, count: int, classes: int = 10) -> Path:
    """``count`` 64×64 RGB JPEGs in ``classes`` sub-folders: smooth colour fields plus noise (JPEG-realistic)."""
    from PIL import Image

    marker = root / f".complete-{count}"
    if marker.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) / SIDE

    def make(start: int) -> None:
        rng = np.random.default_rng(start)
        for i in range(start, min(count, start + 1000)):
            cls = i % classes
            folder = root / f"class{cls:02d}"
            a, b, c = rng.random(3)
            img = np.stack([255 * (a * xx + (1 - a) * yy), 255 * (b * yy + cls / classes * (1 - b)),
                            255 * np.abs(np.sin(6 * c * xx + cls))], axis=-1)
            img += rng.normal(0, 12, img.shape)
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"{i:07d}.jpg", quality=90)

    for cls in range(classes):
        (root / f"class{cls:02d}").mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(make, range(0, count, 1000)))
    marker.write_text("")
    return root


# ---------------------------------------------------------------------------------------- memory probes
class PeakMemory:
    """Samples this process's RssAnon (anonymous resident memory) in a thread; ``ru_maxrss`` for everything."""

    def __init__(self, every: float = 0.02):
        self.every = every
        self.peak_anon = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def anon_bytes() -> int:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_anon = max(self.peak_anon, self.anon_bytes())
            time.sleep(self.every)

    def __enter__(self) -> PeakMemory:
        self.base_anon = self.anon_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_anon = max(self.peak_anon, self.anon_bytes())


def run_child(kind: str, folder: Path, cache: Path, extra: list[str] | None = None) -> dict:
    env = {**os.environ, "LATENT_EXPLORER_CACHE": str(cache)}
    out = subprocess.run([sys.executable, str(HERE), "--child", kind, "--dir", str(folder), *(extra or [])],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"child {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(kind: str, folder: Path, args) -> dict:
    """One measured run in this (fresh) process; prints its figures as JSON."""
    import PIL.Image  # noqa: F401 - every import happens before the clock starts
    import torch

    from latent_explorer.core import image_cache  # noqa: F401
    from latent_explorer.core.datasets import load_dataset
    from latent_explorer.core.encoding import iter_encode
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import load_model

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    t0, c0 = time.perf_counter(), time.process_time()
    with PeakMemory() as mem:
        if kind == "pil":
            result = bare_pil_loop(folder)
        elif kind in ("cache-cold", "cache-warm"):
            dataset = load_dataset(folder, shape=(SIDE, SIDE), mode="RGB")
            rng = np.random.default_rng(0)
            for i in rng.integers(0, len(dataset), 200):  # hover thumbnails read lazily from the map
                dataset.display_image(int(i))
            result = {"images": len(dataset), "memmap": isinstance(dataset.images, np.memmap)}
        elif kind == "encode-stream":
            dataset = load_dataset(folder, shape=(SIDE, SIDE), mode="RGB")
            model = load_model(args.model_dir, device="cpu")
            codes = run_job(iter_encode(model, dataset, batch_size=512))
            result = {"images": len(codes)}
        else:
            raise SystemExit(f"unknown child {kind}")
    result.update(seconds=time.perf_counter() - t0, cpu=time.process_time() - c0,
                  maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  peak_anon=mem.peak_anon - mem.base_anon, base_anon=mem.base_anon)
    return result


def bare_pil_loop(folder: Path) -> dict:
    """The baseline: one thread, every file decoded with PIL into one in-memory (N, 3, 64, 64) array."""
    from PIL import Image

    files = sorted(p for d in sorted(folder.iterdir()) if d.is_dir() for p in sorted(d.iterdir()))
    out = np.empty((len(files), 3, SIDE, SIDE), np.uint8)
    for i, f in enumerate(files):
        with Image.open(f) as im:
            out[i] = np.asarray(im.convert("RGB")).transpose(2, 0, 1)
    return {"images": len(out)}


# ------------------------------------------------------------------------------------------------ model
def conv_model_dir(root: Path) -> Path:
    """The project's built-in conv AE for 3×64×64 as a checkpoint folder (untrained: throughput only)."""
    import torch

    from latent_explorer.core.models import builtin
    from latent_explorer.core.models.checkpoint import TrainConfig, save_checkpoint

    folder = root / "conv-ae-64"
    if not (folder / "config.json").exists():
        torch.manual_seed(0)
        config = TrainConfig(arch="conv-ae", z_dim=32, input_shape=(3, SIDE, SIDE))
        save_checkpoint(folder, builtin.build("conv-ae", (3, SIDE, SIDE), 32), config)
    return folder


def bare_torch_loop(module, images: np.ndarray, batch_size: int) -> np.ndarray:
    import torch

    out = np.empty((len(images), 32), np.float32)
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            x = torch.from_numpy(np.asarray(images[start:start + batch_size])).float().div_(255.0)
            out[start:start + batch_size] = module.encode(x).numpy()
    return out


# ------------------------------------------------------------------------------------------------ parts
def part_load(bench: Bench, folder: Path, work: Path) -> None:
    cache = work / "cache"
    if cache.exists():
        import shutil

        shutil.rmtree(cache)
    pil = run_child("pil", folder, cache)
    cold = run_child("cache-cold", folder, cache)
    warm = run_child("cache-warm", folder, cache)
    n = pil["images"]
    mb = 1 / 2**20
    bench.add(f"bare PIL loop, {n} images: wall", pil["seconds"], "s")
    bench.add("bare PIL loop: CPU", pil["cpu"], "s")
    bench.add("app cache, cold (decode + write): wall", cold["seconds"], "s", baseline=pil["seconds"],
              target="<= 1.0 (ratio)")
    bench.add("app cache, cold: CPU", cold["cpu"], "s", baseline=pil["cpu"])
    bench.add("app cache, warm (from the cache): wall", warm["seconds"], "s", baseline=pil["seconds"],
              target="<= 0.1 (ratio)")
    bench.add("bare PIL loop: peak RssAnon growth", pil["peak_anon"] * mb, "MiB")
    bench.add("app cache, cold: peak RssAnon growth", cold["peak_anon"] * mb, "MiB", baseline=pil["peak_anon"] * mb,
              target="<= 0.25 (ratio)")
    bench.add("app cache, warm: peak RssAnon growth", warm["peak_anon"] * mb, "MiB", baseline=pil["peak_anon"] * mb)
    bench.add("bare PIL loop: ru_maxrss", pil["maxrss"] * mb, "MiB")
    bench.add("app cache, cold: ru_maxrss", cold["maxrss"] * mb, "MiB", baseline=pil["maxrss"] * mb)
    bench.add("app cache, warm: ru_maxrss", warm["maxrss"] * mb, "MiB", baseline=pil["maxrss"] * mb)


def part_encode(bench: Bench, folder: Path, work: Path, count: int) -> None:
    import torch

    from latent_explorer.core.datasets import Dataset, load_dataset
    from latent_explorer.core.encoding import iter_encode
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import load_model

    cache = work / "cache"
    os.environ["LATENT_EXPLORER_CACHE"] = str(cache)
    model_dir = conv_model_dir(work)
    full = load_dataset(folder, shape=(SIDE, SIDE), mode="RGB")
    n = min(len(full), count)
    part = Dataset(name="part", images=full.images[:n], _fingerprint="benchmark")
    model = load_model(model_dir, device="cpu")
    module = model._modules[0]
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    bare, app, recon = [], [], []
    for _ in range(2):  # interleaved: both see the same machine
        t0 = time.process_time()
        reference = bare_torch_loop(module, part.images, 512)
        bare.append(time.process_time() - t0)
        t0 = time.process_time()
        codes = run_job(iter_encode(model, part, batch_size=512, with_reconstruction=False))
        app.append(time.process_time() - t0)
        t0 = time.process_time()
        run_job(iter_encode(model, part, batch_size=512))
        recon.append(time.process_time() - t0)
    assert np.allclose(codes.z, reference, atol=1e-5)
    bench.add(f"bare torch loop over the map, {n} images", n / min(bare), "img/s (CPU)")
    bench.add("app iter_encode streaming from the cache", n / min(app), "img/s (CPU)", baseline=n / min(bare),
              target=">= 0.9 (ratio)")
    bench.add("app iter_encode + reconstruction error", n / min(recon), "img/s (CPU)", baseline=n / min(bare))
    stream = run_child("encode-stream", folder, cache, ["--model-dir", str(model_dir)])
    mb = 1 / 2**20
    image_bytes = stream["images"] * 3 * SIDE * SIDE
    bench.add(f"streaming encode of all {stream['images']}: peak RssAnon growth", stream["peak_anon"] * mb, "MiB",
              baseline=image_bytes * mb, target="<= 0.25 (ratio)")
    bench.add("streaming encode of all: wall", stream["seconds"], "s")


def part_ray(bench: Bench, folder: Path, work: Path, count: int) -> None:
    from latent_explorer.core.codes_file import read_codes
    from latent_explorer.core.datasets import Dataset, load_dataset
    from latent_explorer.core.encoding import iter_encode
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import load_model
    from latent_explorer.scale.ray_encode import EncodeRequest, encode_with_ray, ray_session

    os.environ["LATENT_EXPLORER_CACHE"] = str(work / "cache")
    model_dir = conv_model_dir(work)
    full = load_dataset(folder, shape=(SIDE, SIDE), mode="RGB")
    n = min(len(full), count)
    npz = work / f"images-{n}.npz"
    if not npz.exists():
        np.savez(npz, x=np.asarray(full.images[:n]))
    model = load_model(model_dir, device="cpu")
    part = Dataset(name="part", images=full.images[:n], _fingerprint="benchmark")
    t0 = time.perf_counter()
    run_job(iter_encode(model, part, batch_size=512))
    in_process = time.perf_counter() - t0
    t0 = time.perf_counter()
    with ray_session(num_cpus=2):
        started = time.perf_counter() - t0
        out = work / f"ray-codes-{n}"
        t0 = time.perf_counter()
        run_job(encode_with_ray(EncodeRequest(model=str(model_dir), data=str(npz), out=out, batch_size=512,
                                              workers=2)))
        ray_seconds = time.perf_counter() - t0
    # bit-identity holds at equal torch threads per process: compare with a 1-thread in-process run
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    check = min(n, 2100)
    one_thread = run_job(iter_encode(model, Dataset(name="check", images=full.images[:check], _fingerprint="b"),
                                     batch_size=512))
    torch.set_num_threads(threads)
    same = np.array_equal(read_codes(out).codes.z[:check], one_thread.z)
    bench.add(f"in-process encoder, {n} images", n / in_process, "img/s")
    bench.add("ray, 2 local CPU workers (after start-up)", n / ray_seconds, "img/s", baseline=n / in_process)
    bench.add("ray start-up (local, 2 CPUs)", started, "s")
    bench.add(f"ray codes bit-identical to in-process (1 thread, first {check})", float(same), "bool",
              target=">= 1")


def part_embed(bench: Bench, work: Path, quick: bool) -> None:
    """Fit-and-place against one full t-SNE on the same codes: time, recall@10 of latent neighbours, KL."""
    from openTSNE import TSNE, TSNEEmbedding
    from openTSNE.affinity import PerplexityBasedNN

    from latent_explorer.core.datasets import load_dataset
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import load_model
    from latent_explorer.core.tsne import default_n_jobs
    from latent_explorer.scale.embed import EmbedRequest, iter_fit_and_place

    os.environ["LATENT_EXPLORER_CACHE"] = str(work / "cache")
    total, fit = (15000, 5000) if quick else (70000, 20000)
    dataset = load_dataset("fashion-mnist")
    codes = run_job(iter_encode_cached(load_model("demo:fashion-conv-vae", device="cpu"), dataset))
    data = np.ascontiguousarray(codes.mu[:total], np.float32)
    labels = codes.labels[:total]
    n_jobs = default_n_jobs()
    request = EmbedRequest(codes=work, fit_sample=fit, seed=0, n_jobs=n_jobs)
    rng = np.random.default_rng(0)
    queries = rng.choice(total, min(5000, total), replace=False)
    latent = neighbours(data, queries)
    t0 = time.process_time(), time.perf_counter()
    placed, fitted, placement, fit_s, place_s = run_job(iter_fit_and_place(data, labels, request))
    fp_cpu, fp_wall = time.process_time() - t0[0], time.perf_counter() - t0[1]
    # each figure is printed as soon as it is known: the full run below is the long part
    bench.add(f"fit {fitted} + place {total - fitted} ({placement}): wall", fp_wall, "s")
    bench.add("fit-and-place: CPU", fp_cpu, "s")
    bench.add("  of which fit: wall", fit_s, "s")
    bench.add("  of which place: wall", place_s, "s")
    recall_fp = recall(latent, neighbours(placed, queries))
    bench.add("recall@10 of latent neighbours, fit-and-place", recall_fp, "")
    t0 = time.process_time(), time.perf_counter()
    full = np.asarray(TSNE(perplexity=30, n_jobs=n_jobs, random_state=0, initialization="pca").fit(data), np.float32)
    full_cpu, full_wall = time.process_time() - t0[0], time.perf_counter() - t0[1]
    bench.add(f"full t-SNE of {total}: wall", full_wall, "s")
    bench.add("fit-and-place against full: wall", fp_wall, "s", baseline=full_wall)
    bench.add("fit-and-place against full: CPU", fp_cpu, "s", baseline=full_cpu, target="<= 0.6 (ratio)")
    recall_full = recall(latent, neighbours(full, queries))
    bench.add("recall@10 of latent neighbours, full run", recall_full, "")
    bench.add("recall@10, fit-and-place against full", recall_fp, "", baseline=recall_full,
              target=">= 0.8 (ratio)")
    affinities = PerplexityBasedNN(data, perplexity=30, n_jobs=n_jobs, random_state=0)

    def kl(layout: np.ndarray) -> float:
        embedding = TSNEEmbedding(layout.astype(np.float64), affinities, n_jobs=n_jobs,
                                  negative_gradient_method="fft")
        embedding.optimize(n_iter=1, learning_rate=1e-12, momentum=0.0, inplace=True)  # evaluates KL, moves nothing
        return float(embedding.kl_divergence)

    bench.add("KL (all-points P), fit-and-place layout", kl(placed), "", baseline=kl(full))


def neighbours(points: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """The k nearest rows of each query row (itself excluded), exact."""
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.neighbors import iter_neighbors

    found = run_job(iter_neighbors(points, points[queries], k=k + 1, exclude_self=False)).indices
    out = np.empty((len(queries), k), np.int64)
    for row, (q, idx) in enumerate(zip(queries, found, strict=True)):
        others = idx[idx != q]
        out[row] = others[:k]
    return out


def recall(reference: np.ndarray, candidate: np.ndarray) -> float:
    from latent_explorer.core.neighbors import recall_at_k

    return recall_at_k(reference, candidate)


def main() -> int:
    bench = Bench("Scale: 200,000 images on one machine, Ray encoding, t-SNE fit-and-place")
    p = bench.parser
    p.add_argument("--part", choices=["load", "encode", "ray", "embed", "all"], default="all")
    p.add_argument("--dir", help="the generated JPEG folder (made once)")
    p.add_argument("--count", type=int, help="images in the folder (default 200,000; --quick 20,000)")
    p.add_argument("--encode-count", type=int, help="images in the interleaved encode runs (default 20,000)")
    p.add_argument("--child", help=argparse_hidden())
    p.add_argument("--model-dir", help=argparse_hidden())
    args = bench.parse()
    if args.child:
        print(json.dumps(child(args.child, Path(args.dir), args)))
        return 0
    count = args.count or (20000 if args.quick else 200000)
    folder = Path(args.dir or Path(tempfile.gettempdir()) / f"latent-explorer-scale-{count}")
    work = folder.with_name(folder.name + "-work")
    work.mkdir(parents=True, exist_ok=True)
    bench.header()
    if args.part in ("load", "encode", "ray", "all"):
        t0 = time.perf_counter()
        generate_folder(folder, count)
        print(f"  folder {folder} ready ({time.perf_counter() - t0:.0f} s)", flush=True)
    encode_count = args.encode_count or (4000 if args.quick else 20000)
    if args.part in ("load", "all"):
        part_load(bench, folder, work)
    if args.part in ("encode", "all"):
        part_encode(bench, folder, work, encode_count)
    if args.part in ("ray", "all"):
        part_ray(bench, folder, work, encode_count)
    if args.part == "embed":
        part_embed(bench, work, bench.quick)
    return bench.finish()


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    raise SystemExit(main())
