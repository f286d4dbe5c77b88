"""Compiled inner loops of the rasteriser (`core.splat`), used when numba is installed.

Why: the numpy rasteriser makes about ten passes over the points of a frame (scale, shift, cast, clip, flatten,
scatter), each through a temporary, and converts the finished canvas twice more (mask, colour look-up); at a
million points that is most of a frame. The compiled splat computes each point's pixel and stores its key in
one pass over the points (block by block), and the colour look-up writes the cropped canvas straight into the
image buffer; the dilation of the usual dot sizes runs row by row in the first-level cache. Three one-pass
helpers serve the scatter's loading of very large clouds on the GUI thread (bounds; class ids made int32 and
counted; the points near the mouse before the hover grid exists).

numba is a dependency (it cuts a whole-view frame of 10,000,000 points from 25–40 ms to about 8 ms of CPU),
but `core.splat` keeps its numpy path for a build where numba cannot load, and uses these kernels only once
`ready` says they are compiled. Compiling
takes a few seconds the first time (then numba's on-disk cache serves it in about a second), so it runs in a
worker thread (`warm_up_in_background`) and no frame ever waits for the compiler. ``LATENT_EXPLORER_NUMBA=0``
turns the kernels off (to compare both paths, or where a numba build misbehaves).

The frames are the numpy path's, pixel for pixel: dense frames keep the last point per pixel before the
dilation, sparse frames stamp whole dots keeping the highest key, points off the canvas go to its outer ring.
"""

from __future__ import annotations

import math
import os
import threading

import numpy as np

LABEL_DTYPES = (np.int64, np.int32)  # the class-id types `compact_labels` is compiled for
_lock = threading.Lock()
_state = {"checked": False, "module": None, "ready": False}


def available() -> bool:
    """Whether numba can be imported here (and is not turned off by ``LATENT_EXPLORER_NUMBA=0``)."""
    if not _state["checked"]:
        with _lock:
            if not _state["checked"]:
                module = None
                if os.environ.get("LATENT_EXPLORER_NUMBA", "1") != "0":
                    try:
                        import numba as module  # noqa: F401 - optional accelerator
                    except ImportError:
                        module = None
                _state["module"] = module
                _state["checked"] = True
    return _state["module"] is not None


def ready() -> bool:
    """Whether the kernels are compiled: frames use them only then (never waiting for the compiler)."""
    return bool(_state["ready"])


def warm_up() -> bool:
    """Compile every kernel for the dtypes frames use (blocking: call it from a worker thread). True if ready."""
    if _state["ready"]:
        return True
    if not available():
        return False
    with _lock:
        if not _state["ready"]:
            _compile()
            _state["ready"] = True
    return True


# The kernels, as plain Python (readable, and what numba compiles: module-level functions, so numba's on-disk
# cache can find them again in the next session). Measured at a million points: a scatter through a ready index
# array runs faster than the same scatter fused with the arithmetic; a dilation fused pixel by pixel with the
# colour look-up is not vectorised (2.8 ms for a 1200 × 900 canvas), so `_dilate_square_lut` fuses them row by
# row instead (each row's maxima vectorised, then its look-up). Inner loops index slices from 0: an index
# offset by a variable (``xs[start + i]``) keeps numba's negative-index check in the loop, which then runs one
# element at a time.
def _block_pixels(x, y, n, ax, bx, ay, by, width, height, block):
    """block[:n] = the flat canvas index of points x[:n], y[:n] (col = x * ax + bx, row = y * ay + by),
    points off the canvas clamped onto its outermost ring; returns n. A loop without branches over slices
    indexed from 0: it vectorises (indexing ``xs[start + i]`` keeps numba's negative-index check in the loop,
    which then ran one point at a time: 1.7 ms for a million points, against 0.4 ms). (Called from the
    kernels: `_compile` compiles it first, under the same name.)"""
    last_col, last_row = width - 1.0, height - 1.0
    for i in range(n):
        c = min(max(x[i] * ax + bx, 0.0), last_col)
        r = min(max(y[i] * ay + by, 0.0), last_row)
        block[i] = np.int32(r) * np.int32(width) + np.int32(c)
    return n


def _inner_pixels(x, y, n, ax, bx, ay, by, width, height, block):
    """`_block_pixels` for the density sums: points on the canvas's outer ring or off it go to the spare entry
    ``width * height`` (their sums are never read) instead of being clamped onto the ring and cleared from it
    afterwards, so a frame knows its largest count as it sums. Branch-free: it vectorises. (Called from the
    kernels: `_compile` compiles it first, under the same name.)"""
    last_col, last_row = width - 1.0, height - 1.0
    spare = np.int32(width * height)
    for i in range(n):
        c = x[i] * ax + bx
        r = y[i] * ay + by
        inside = (c >= 1.0) & (c < last_col) & (r >= 1.0) & (r < last_row)  # (false for NaN)
        at = np.int32(min(max(r, 0.0), last_row)) * np.int32(width) + np.int32(min(max(c, 0.0), last_col))
        block[i] = at if inside else spare
    return n


def _splat(xs, ys, keys, one_key, use_one, ranges, ax, bx, ay, by, width, height, flat, counts, count, block,
           weights, use_weights):
    """Each point of the slices ``ranges`` ((k, 2): start, stop) into the flat canvas (col = x * ax + bx,
    row = y * ay + by): the last key per pixel, as the numpy path's dense frames (a store without a load: 3.4×
    faster than keeping the highest key, since a million points pile onto some 75,000 pixels), and with
    ``count`` the number of points per pixel. Points off the canvas are clamped onto its outermost ring
    (padding the frame never shows, as in the numpy path).

    Block by block (``block``: an int32 scratch array of a few thousand, in the first-level cache): first the
    pixel index of each point (a loop without branches, which vectorises), then the scatter through those
    indices (measured at a million points: one fused loop took 7 ms, two passes over whole arrays 5 ms).
    ``weights`` (with ``use_weights``): the number of points each entry stands for (`core.spatial.count_cells`).
    """
    size = len(block)
    for q in range(ranges.shape[0]):
        i1 = ranges[q, 1]
        for start in range(ranges[q, 0], i1, size):
            stop = min(start + size, i1)
            n = _block_pixels(xs[start:stop], ys[start:stop], stop - start, ax, bx, ay, by, width, height, block)
            if use_one:
                for i in range(n):
                    flat[block[i]] = one_key
            else:
                k = keys[start:stop]
                for i in range(n):
                    flat[block[i]] = k[i]
            if count and use_weights:  # a counted level of detail: each entry stands for its cell's points
                wt = weights[start:stop]
                for i in range(n):
                    counts[block[i]] += wt[i]
            elif count:
                for i in range(n):
                    counts[block[i]] += 1


def _bounds(xy, out):
    """out = (x min, x max, y min, y max) of an (N, 2) array in one pass; returns whether every value is finite
    (the numpy equivalent is four strided passes and a finite test: 10 times slower at ten million rows)."""
    finite = True
    x0, x1, y0, y1 = np.inf, -np.inf, np.inf, -np.inf
    for i in range(xy.shape[0]):
        x, y = xy[i, 0], xy[i, 1]
        if not (np.isfinite(x) and np.isfinite(y)):
            finite = False
            continue
        x0, x1 = min(x0, x), max(x1, x)
        y0, y1 = min(y0, y), max(y1, y)
    out[0], out[1], out[2], out[3] = x0, x1, y0, y1
    return finite


def _compact_labels(labels, out, counts):
    """out = labels as int32 and counts = how many of each id in [0, len(counts)), in one pass; returns whether
    every id fits in int32 (else ``out`` is not usable)."""
    n_classes = len(counts)
    for i in range(labels.shape[0]):
        v = labels[i]
        if v < -2147483648 or v > 2147483647:
            return False
        out[i] = v
        if 0 <= v < n_classes:
            counts[v] += 1
    return True


def _in_box(xs, ys, x, y, rx, ry, found):
    """Positions i with |xs[i] - x| <= rx and |ys[i] - y| <= ry, in order, into ``found``; returns how many, or
    -1 when ``found`` is full (the caller then asks numpy). One pass, no temporaries: the scatter's look-ups
    before its grid exists (a float64 column of ten million rows in some 20 ms; numpy's strip test, 140 ms)."""
    n = 0
    capacity = len(found)
    for i in range(len(xs)):
        if abs(xs[i] - x) <= rx and abs(ys[i] - y) <= ry:
            if n == capacity:
                return -1
            found[n] = i
            n += 1
    return n


def _count_cells(starts, slots, representatives, counts):
    """For every cell (the slice ``starts[c]:starts[c + 1]`` of grid order) and every slot in it, the position
    of the slot's first point and its number of points, in order of those positions; returns how many. One pass
    (a 256-entry table per cell), where numpy needs a sort of all points."""
    table = np.zeros(256, np.int64)
    first = np.zeros(256, np.int64)
    seen = np.zeros(256, np.int64)
    n = 0
    for c in range(len(starts) - 1):
        m = 0
        for i in range(starts[c], starts[c + 1]):
            slot = slots[i]
            if table[slot] == 0:
                first[slot] = i
                seen[m] = slot
                m += 1
            table[slot] += 1
        for k in range(m):
            slot = seen[k]
            representatives[n] = first[slot]
            counts[n] = table[slot]
            table[slot] = 0
            n += 1
    return n


def _density_splat(xs, ys, rgb, weights, use_weights, ranges, ax, bx, ay, by, width, height, sums, block, touched,
                   n_touched, largest):
    """Each point of the slices ``ranges`` ((k, 2)) into the density sums of its pixel (``sums``
    (width * height + 1, 4) float32: count, then red, green and blue times the count, side by side: one cache
    line per point, where four planes took four; ``rgb`` (3, n) float32; ``weights`` the count of each point,
    for a counted level of detail). Points on the canvas's outer ring or off it go to the spare last entry,
    whose count must start at -inf (so it is never listed nor the largest); the sums are made in point order,
    as numpy's ``add.at`` makes them. Each pixel that gets its first point is listed in ``touched`` from
    ``n_touched`` on; returns the new count (`_density_pack_touched` then colours only those). ``largest[0]``
    is raised to the largest count summed (no pass of its own over the canvas)."""
    size = len(block)
    top = largest[0]
    for q in range(ranges.shape[0]):
        i1 = ranges[q, 1]
        for start in range(ranges[q, 0], i1, size):
            stop = min(start + size, i1)
            n = _inner_pixels(xs[start:stop], ys[start:stop], stop - start, ax, bx, ay, by, width, height, block)
            red, green, blue, wt = rgb[0, start:stop], rgb[1, start:stop], rgb[2, start:stop], weights[start:stop]
            for i in range(n):
                p = block[i]
                w = np.float32(wt[i]) if use_weights else np.float32(1.0)
                pixel = sums[p]
                if pixel[0] == 0:
                    touched[n_touched] = p
                    n_touched += 1
                pixel[0] += w
                pixel[1] += red[i] * w
                pixel[2] += green[i] * w
                pixel[3] += blue[i] * w
                top = max(top, pixel[0])
    largest[0] = top
    return n_touched


def _density_pack(sums, largest, opacity, log_table, argb):
    """Each filled pixel's premultiplied ARGB from its density sums (``sums`` (size + 1, 4), as `_density_splat`
    makes them; ``largest`` the largest count), as `core.splat.Rasterizer.render_density`'s numpy path computes
    it (alpha from the log of its count against the largest; its mean colour), zeroing the sums of each filled
    pixel as it goes: the sums are clear again for the next frame. ``argb`` must be zero elsewhere.
    ``log_table[k]`` = log1p(k) in float32 for the usual counts (numpy's values: a call per pixel took most of
    the pass)."""
    top = _log1p(largest, log_table) if largest > 0 else np.float32(1.0)
    for p in range(sums.shape[0] - 1):
        if sums[p, 0] > 0:
            _pack_pixel(sums, p, top, opacity, log_table, argb)


def _density_pack_touched(sums, largest, opacity, log_table, touched, n_touched, argb):
    """`_density_pack` for the listed pixels only (a frame of few points: no pass over the whole canvas)."""
    top = _log1p(largest, log_table) if largest > 0 else np.float32(1.0)
    for k in range(n_touched):
        _pack_pixel(sums, touched[k], top, opacity, log_table, argb)


def _pack_pixel(sums, p, top, opacity, log_table, argb):
    """argb[p] from the density sums of pixel p (count > 0), whose sums are then zeroed. (Called from the density
    kernels: `_compile` compiles it first, under the same name.)"""
    n = sums[p, 0]
    level = _log1p(n, log_table) / top
    alpha = opacity * (np.float32(0.15) + np.float32(0.85) * level)
    scale = alpha / n
    packed = np.uint32(alpha * np.float32(255) + np.float32(0.5)) << 24
    packed |= np.uint32(sums[p, 1] * scale + np.float32(0.5)) << 16
    packed |= np.uint32(sums[p, 2] * scale + np.float32(0.5)) << 8
    packed |= np.uint32(sums[p, 3] * scale + np.float32(0.5))
    argb[p] = packed
    sums[p, 0] = 0
    sums[p, 1] = 0
    sums[p, 2] = 0
    sums[p, 3] = 0


def _zero_at(values, positions, n):
    """values[positions[:n]] = 0."""
    for k in range(n):
        values[positions[k]] = 0


def _log1p(n, log_table):
    """log1p(n) in float32: from the table where n is a whole number within it (counts are)."""
    k = int(n)
    if k == n and k < len(log_table):
        return log_table[k]
    return np.float32(math.log1p(n))


def _span_run(s, d, lo, hi):
    """d[j] = the maximum of s[j - k] for k in [lo, hi]: one row of a round dot, along one canvas row; columns
    the run does not reach whole are zeroed (padding the frame never shows). One shift at a time through
    slices indexed from 0, so LLVM vectorises the loops. (Called from `_dilate_disc_lut`: `_compile` compiles
    it first, under the same name.)"""
    w = len(s)
    j0 = max(hi, 0)
    j1 = min(w + lo, w)
    if j1 <= j0:
        for j in range(w):
            d[j] = 0
        return
    for j in range(j0):
        d[j] = 0
    for j in range(j1, w):
        d[j] = 0
    run = d[j0:j1]
    first = s[j0 - hi:j1 - hi]
    for i in range(j1 - j0):
        run[i] = first[i]
    for k in range(lo, hi):
        shifted = s[j0 - k:j1 - k]
        for i in range(j1 - j0):
            run[i] = max(run[i], shifted[i])


def _put_row(line, values, lut, mask, use_lut):
    """line = lut[values & mask] (``use_lut``), else values: one output row of the dilation kernels. (Called from
    them: `_compile` compiles it first, under the same name.)"""
    if use_lut:
        for j in range(len(line)):
            line[j] = lut[values[j] & mask]
    else:
        for j in range(len(line)):
            line[j] = values[j]


def _dilate_disc_lut(src, runs, spans, span_of_row, acc, lut, mask, use_lut, out, pad, anchor):
    """`_dilate_square_lut` for any dot (``core.splat.disc_stamp``: a high-DPI screen's 6-pixel dot), the pixels
    `core.splat.dilate_max` gives: each canvas row's horizontal run for each distinct span of the dot's rows
    (``spans`` (k, 2): lo, hi offsets; ``span_of_row[i]``: the span of dot row i, -1 for an empty row) goes
    into a ring of the last d rows (``runs`` (k, d, width)), the canvas row is cleared, and once an output
    row's source rows are all in the ring its maximum (``acc``) is looked up or copied into ``out``."""
    h, w = src.shape
    oh, ow = out.shape
    d = span_of_row.shape[0]
    total = acc[:ow]
    for r in range(h):
        s = src[r]
        slot = r % d
        for q in range(spans.shape[0]):
            _span_run(s, runs[q, slot], spans[q, 0], spans[q, 1])
        for j in range(w):
            s[j] = 0
        o = r - anchor - pad  # the output row whose lowest source row this is
        if o < 0 or o >= oh:
            continue
        first = True
        for row in range(d):
            q = span_of_row[row]
            if q < 0:
                continue
            source = runs[q, (r - row) % d][pad:pad + ow]  # canvas row o + pad - (row - anchor)
            if first:
                for j in range(ow):
                    total[j] = source[j]
                first = False
            else:
                for j in range(ow):
                    total[j] = max(total[j], source[j])
        line = out[o]
        if first:
            for j in range(ow):
                total[j] = 0
        _put_row(line, total, lut, mask, use_lut)


def _stamp_into_frame(xs, ys, keys, const_key, use_const, ranges, ax, bx, ay, by, canvas, off_y, off_x, lut,
                      mask, out, pad, touched, n_touched):
    """Each point's whole dot at once (cheaper than dilating the whole canvas when few points are in view),
    keeping the highest key per pixel; each pixel of the frame ``out`` (cropped by ``pad``) is coloured as its
    key rises, and each canvas pixel written for the first time is listed in ``touched`` (from ``n_touched``
    on); returns the new count. With `_unstamp`, a frame of few points costs only its own pixels: no pass over
    the whole canvas to colour it, none to clear it (the whole-canvas look-up of a deep zoom took 1.3 ms for
    some hundred dots)."""
    h, w = canvas.shape
    oh, ow = out.shape
    n_off = len(off_y)
    for q in range(ranges.shape[0]):
        i0, i1 = ranges[q, 0], ranges[q, 1]
        px, py = xs[i0:i1], ys[i0:i1]  # indexed from 0 (see `_block_pixels`)
        k_of = keys[i0:i1] if not use_const else keys
        for i in range(i1 - i0):
            c = px[i] * ax + bx
            if not (c >= 0.0 and c < w):  # (also false for NaN)
                continue
            r = py[i] * ay + by
            if not (r >= 0.0 and r < h):
                continue
            ci, ri = int(c), int(r)
            k = const_key if use_const else k_of[i]
            for j in range(n_off):
                y, x = ri + off_y[j], ci + off_x[j]
                if 0 <= y < h and 0 <= x < w:
                    old = canvas[y, x]
                    if k > old:
                        if old == 0:
                            touched[n_touched] = y * w + x
                            n_touched += 1
                        canvas[y, x] = k
                        oy, ox = y - pad, x - pad
                        if 0 <= oy < oh and 0 <= ox < ow:
                            out[oy, ox] = lut[k & mask]
    return n_touched


def _unstamp(canvas, out, touched, n_touched, pad, empty):
    """Undo a `_stamp_into_frame` frame: its canvas pixels back to 0, its frame pixels to ``empty``."""
    h, w = canvas.shape
    oh, ow = out.shape
    for i in range(n_touched):
        p = touched[i]
        y = p // w
        x = p - y * w
        canvas[y, x] = 0
        oy, ox = y - pad, x - pad
        if 0 <= oy < oh and 0 <= ox < ow:
            out[oy, ox] = empty


def _merge_counts(canvas, counts, max_count):
    """Put each pixel's point count (capped) into the count bits of its key; the outer ring (where points off
    the canvas were clamped) is left uncounted. ``counts`` is left zero, ready for the next frame (each row is
    cleared while it is in the cache: no pass of its own)."""
    h, w = canvas.shape
    for c in range(w):
        counts[0, c] = 0
        counts[h - 1, c] = 0
    for r in range(1, h - 1):
        key = canvas[r]
        row = counts[r]
        row[0] = 0
        row[w - 1] = 0
        for c in range(1, w - 1):
            n = row[c]
            if n:
                key[c] |= min(n, max_count) << 8
                row[c] = 0


def _lut_crop(canvas, lut, mask, out, pad):
    """out = lut[canvas & mask], cropped by ``pad`` (dots already stamped whole)."""
    height, width = out.shape
    for r in range(height):
        src = canvas[r + pad][pad:pad + width]  # indexed from 0: vectorised (0.36 ms against 0.9 at 1200 × 900)
        line = out[r]
        for c in range(width):
            line[c] = lut[src[c] & mask]


def _square_run(s, d, diameter):
    """d = the horizontal maxima of row s over a square dot 2 or 3 pixels wide, its ends zeroed (the outer
    ring). (Called from the dilation kernels: `_compile` compiles it first, under the same name.)"""
    w = len(s)
    d[0] = 0
    d[w - 1] = 0
    if diameter == 3:
        for j in range(1, w - 1):
            d[j] = max(max(s[j - 1], s[j]), s[j + 1])
    else:  # 2 pixels: the anchor is the top-left one, so the dot reaches one pixel right and down
        for j in range(1, w):
            d[j] = max(s[j - 1], s[j])


def _dilate_square_lut(src, rows, lut, mask, use_lut, out, pad, diameter):
    """out = lut[dilated src & mask], cropped by ``pad``, for the square dots 2 and 3 pixels wide (the usual
    point sizes on an ordinary screen; the pixels `core.splat.dilate_max` gives), with ``src`` left zero for the
    next frame (without ``use_lut``: out = the dilated values, cropped: the density frames' colours). One pass:
    each canvas row's horizontal maxima go to one of three rolling rows of ``rows`` ((4, width): the fourth
    holds an output row's vertical maxima), the canvas row is cleared while in the cache, and as soon as an
    output row's source rows are ready its colours are looked up. No canvas-sized intermediate is written or
    read back: 0.9 ms against 1.2 for dilating, colouring and clearing in three passes (1200 × 900)."""
    h, w = src.shape
    oh, ow = out.shape
    below = 1 if diameter == 3 else 0  # the run rows below an output row's own that its dot reaches
    acc = rows[3][:ow]
    for r in range(h):
        s = src[r]
        d = rows[r % 3]
        _square_run(s, d, diameter)
        for j in range(w):
            s[j] = 0
        o = r - below - pad  # the output row whose source rows end with this one
        if o < 0 or o >= oh:
            continue
        line = out[o]
        here = d[pad:pad + ow]
        above = rows[(r + 2) % 3][pad:pad + ow]
        if diameter == 3:
            two_above = rows[(r + 1) % 3][pad:pad + ow]
            for j in range(ow):
                acc[j] = max(max(two_above[j], above[j]), here[j])
        else:
            for j in range(ow):
                acc[j] = max(above[j], here[j])
        _put_row(line, acc, lut, mask, use_lut)


_PYTHON = {"splat": _splat, "bounds": _bounds, "compact_labels": _compact_labels, "merge_counts": _merge_counts,
           "lut_crop": _lut_crop, "dilate_square_lut": _dilate_square_lut, "dilate_disc_lut": _dilate_disc_lut,
           "stamp_into_frame": _stamp_into_frame,
           "unstamp": _unstamp, "in_box": _in_box, "count_cells": _count_cells,
           "density_splat": _density_splat, "density_pack": _density_pack,
           "density_pack_touched": _density_pack_touched, "zero_at": _zero_at}
_kernels: dict[str, object] = {}


def warm_up_in_background() -> None:
    """Start compiling in a daemon thread (once per process): the frames drawn meanwhile take the numpy path."""
    if _state["ready"] or _state.get("warming") or os.environ.get("LATENT_EXPLORER_NUMBA", "1") == "0":
        return
    _state["warming"] = True
    threading.Thread(target=warm_up, name="splat-compile", daemon=True).start()


def _compile() -> None:
    njit = _state["module"].njit
    options = {"cache": True, "nogil": True, "boundscheck": False, "error_model": "numpy"}
    # the helper the kernels call, compiled and put in its place first (numba resolves globals when it
    # compiles a caller)
    globals()["_block_pixels"] = njit(**options)(_block_pixels)
    globals()["_inner_pixels"] = njit(**options)(_inner_pixels)
    globals()["_log1p"] = njit(**options)(_log1p)
    globals()["_pack_pixel"] = njit(**options)(_pack_pixel)
    globals()["_square_run"] = njit(**options)(_square_run)
    globals()["_span_run"] = njit(**options)(_span_run)
    globals()["_put_row"] = njit(**options)(_put_row)
    compiled = {name: njit(**options)(fn) for name, fn in _PYTHON.items()}
    # compile now for what frames pass: float32 coordinates, int32 pixel indices, uint16 (full opacity) and
    # uint32 (counted) keys
    xs = np.zeros(4, np.float32)
    index = np.zeros(4, np.int32)
    lut = np.zeros(65536, np.uint32)
    out = np.zeros((2, 2), np.uint32)
    runs = np.zeros(1, np.int64)
    every = np.array([[0, 4]], np.int64)  # the slices of points a frame reads
    for dtype in (np.uint16, np.uint32):
        canvas = np.zeros((6, 6), dtype)
        keys = np.ones(4, dtype)
        for use_const in (False, True):
            for use_weights in (False, True):
                compiled["splat"](xs, xs, keys, dtype(1), use_const, every, 1.0, 2.0, 1.0, 2.0, 6, 6, canvas.ravel(),
                                  np.zeros(36, np.uint32), dtype is np.uint32, index, np.ones(4, np.uint32),
                                  use_weights)
        compiled["lut_crop"](canvas, lut, dtype(0xFFFF), out, 2)
        for use_lut in (True, False):
            compiled["dilate_square_lut"](canvas, np.zeros((4, 6), dtype), lut, dtype(0xFFFF), use_lut, out, 2, 3)
            compiled["dilate_disc_lut"](canvas, np.zeros((1, 2, 6), dtype), np.array([[-1, 1]], np.int64),
                                        np.zeros(2, np.int64), np.zeros(6, dtype), lut, dtype(0xFFFF), use_lut, out,
                                        2, 0)
    compiled["merge_counts"](np.zeros((2, 2), np.uint32), np.zeros((2, 2), np.uint32), np.uint32(127))
    canvas, keys, touched = np.zeros((6, 6), np.uint16), np.ones(4, np.uint16), np.zeros(36, np.int64)
    for use_const in (False, True):
        compiled["stamp_into_frame"](xs, xs, keys, np.uint16(1), use_const, every, 1.0, 2.0, 1.0, 2.0, canvas, runs,
                                     runs, lut[:256], np.uint16(0xFF), out, 2, touched, 0)
    compiled["unstamp"](canvas, out, touched, 0, 2, np.uint32(0))
    for dtype in (np.float64, np.float32):
        compiled["bounds"](np.zeros((2, 2), dtype), np.zeros(4))
    for use_weights in (False, True):
        compiled["density_splat"](xs, xs, np.zeros((3, 4), np.float32), np.ones(4, np.uint32), use_weights, every,
                                  1.0, 2.0, 1.0, 2.0, 6, 6, np.zeros((37, 4), np.float32), index,
                                  np.zeros(36, np.int32), 0, np.zeros(1, np.float32))
    largest = np.float32(1.0)
    compiled["density_pack_touched"](np.ones((37, 4), np.float32), largest, np.float32(1.0), np.zeros(4, np.float32),
                                     np.zeros(36, np.int32), 0, np.zeros(36, np.uint32))
    compiled["zero_at"](np.zeros(36, np.uint32), np.zeros(36, np.int32), 0)
    compiled["density_pack"](np.ones((37, 4), np.float32), largest, np.float32(1.0), np.zeros(4, np.float32),
                             np.zeros(36, np.uint32))
    compiled["count_cells"](np.array([0, 2, 4], np.int64), np.ones(4, np.uint8), np.zeros(4, np.int64),
                            np.zeros(4, np.uint32))
    found = np.zeros(4, np.int64)
    for dtype in (np.float32, np.float64):  # a float32 copy, and the columns of the caller's (N, 2) array
        column = np.zeros((4, 2), dtype)[:, 0]
        for values in (column, np.ascontiguousarray(column)):
            compiled["in_box"](values, values, dtype(0), dtype(0), dtype(1), dtype(1), found)
    for dtype in LABEL_DTYPES:
        compiled["compact_labels"](np.zeros(2, dtype), np.zeros(2, np.int32), np.zeros(2, np.int64))
    _kernels.update(compiled)


def kernel(name: str):
    """A compiled kernel by name (only after `warm_up` has returned True)."""
    return _kernels[name]
