"""Saved sessions (``.lxs``): what was loaded, how it was shown, and every feature's own state, in one file.

A session file is a zip holding ``state.json`` and one ``arrays/<part>/<name>.npy`` entry per array (the
layout of an ``.npz``). The model and the dataset are stored as references — the spec string that opened
them, the load options and a content hash — never as copies, so reopening finds a moved or changed file
and says so. Each feature contributes a *part*: a JSON-able dict plus named arrays.

Files are written to a temporary name and renamed over the target (`core.atomic`), so a crash or a
``kill -9`` during a save leaves the previous file intact. Nothing is ever unpickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latent_explorer import __version__
from latent_explorer.core.atomic import atomic_path, clean_stale_temporaries, temporary_prefix
from latent_explorer.core.datasets import FASHION_SPEC, Dataset, iter_load_dataset
from latent_explorer.core.encoding import Codes, iter_encode_cached
from latent_explorer.core.errors import CodeNotAllowedError, LatentExplorerError, LimitError
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.limits import current_limits
from latent_explorer.core.safe_files import read_zip_npy, read_zip_text, regular_file
from latent_explorer.core.userdirs import data_dir

SESSION_FORMAT = "latent-explorer-session"
SESSION_VERSION = 1
SESSION_SUFFIX = ".lxs"
STATE_ENTRY = "state.json"
ARRAY_PREFIX = "arrays/"
AUTOSAVE_NAME = "autosave" + SESSION_SUFFIX
AUTOSAVE_PREVIOUS_NAME = "autosave-previous" + SESSION_SUFFIX
CLEAN_EXIT_NAME = "clean-exit"
PART_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
BUILTIN_DATASETS = ("digits", "fashion-mnist")


class SessionError(LatentExplorerError):
    """A session file that cannot be read or written, or a part that cannot be restored."""


# ------------------------------------------------------------------------------------------ references
@dataclass
class SourceRef:
    """How to reopen a model or a dataset, and the content hash that tells whether it is still the same."""

    spec: str  # what opened it: "digits", "demo:NAME", a path
    fingerprint: str = ""
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # dataset load options (x_key, shape, ...)

    @property
    def is_builtin(self) -> bool:
        spec = self.spec
        return spec.startswith("demo:") or spec in BUILTIN_DATASETS or FASHION_SPEC.fullmatch(spec) is not None

    @property
    def path(self) -> Path | None:
        return None if self.is_builtin else Path(self.spec).expanduser()

    def exists(self) -> bool:
        """False when the reference names a file or folder that is no longer there."""
        path = self.path
        return path is None or path.exists()

    def to_json(self) -> dict[str, Any]:
        return {"spec": self.spec, "fingerprint": self.fingerprint, "name": self.name, "options": self.options}

    @classmethod
    def from_json(cls, data: Any, what: str, source: Path) -> SourceRef | None:
        if data is None:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("spec"), str):
            raise SessionError(f"the {what} reference is malformed", path=source)
        options = data.get("options") or {}
        if not isinstance(options, dict):
            raise SessionError(f"the {what} load options are malformed", path=source)
        return cls(spec=data["spec"], fingerprint=str(data.get("fingerprint", "")), name=str(data.get("name", "")),
                   options=options)


_OPTION_TYPES: dict[str, tuple[type, ...]] = {"x_key": (str,), "y_key": (str,), "labels": (str,),
                                              "attributes": (str,), "mode": (str,), "limit": (int,),
                                              "shape": (list, tuple), "class_names": (list,)}


def dataset_load_options(options: dict[str, Any], source: Path | None = None) -> dict[str, Any]:
    """The saved load options, type-checked (a session is a file from someone else); ``shape`` back to a tuple."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        types = _OPTION_TYPES.get(key)
        if types is None:
            raise SessionError(f"the dataset load option '{key}' is unknown", path=source,
                               hint=f"known options: {', '.join(_OPTION_TYPES)}")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            raise SessionError(f"the dataset load option {key} = {value!r} has the wrong type", path=source,
                               hint=f"{key} holds a {' or '.join(t.__name__ for t in types)}")
        out[key] = value
    if "shape" in out:
        shape = out["shape"]
        if len(shape) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in shape):
            raise SessionError(f"the dataset load option shape = {shape!r} is not [height, width]", path=source)
        out["shape"] = (int(shape[0]), int(shape[1]))
    if "class_names" in out and not all(isinstance(v, str) for v in out["class_names"]):
        raise SessionError("the dataset load option class_names holds something other than strings", path=source)
    return out


# --------------------------------------------------------------------------------------------- session
@dataclass
class Session:
    """Everything a session file holds; ``parts`` and ``arrays`` are keyed by part name."""

    dataset: SourceRef | None = None
    model: SourceRef | None = None
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    arrays: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    saved_at: float = 0.0
    app_version: str = __version__

    def add_part(self, name: str, state: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> None:
        if not PART_NAME.match(name):
            raise SessionError(f"part name '{name}' may hold only letters, digits, '_', '.' and '-'")
        for key in arrays or {}:
            if not PART_NAME.match(key):
                raise SessionError(f"array name '{key}' of part '{name}' may hold only letters, digits, '_', '.', '-'")
        self.parts[name] = dict(state)
        self.arrays[name] = {k: np.asarray(v) for k, v in (arrays or {}).items()}

    def part(self, name: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        if name not in self.parts:
            return None
        return self.parts[name], self.arrays.get(name, {})


def write_session(path: str | Path, session: Session) -> Path:
    """Write ``session`` to ``path`` atomically: the old file stays whole until the new one is complete."""
    path = Path(path)
    session.saved_at = time.time()
    text = _document_text(session, path)
    clean_stale_temporaries(path)  # left by a save that was killed
    try:
        with atomic_path(path, suffix=".part") as tmp:
            _write_zip(tmp, text, session, path)
    except OSError as exc:
        raise SessionError(f"cannot write the session ({exc.strerror or exc})", path=path,
                           hint="choose a folder you can write to; the previous file, if any, is unchanged") from exc
    return path


def _document_text(session: Session, path: Path) -> str:
    """``state.json``: the header, the references and every part's JSON state."""
    document = {
        "format": SESSION_FORMAT,
        "version": SESSION_VERSION,
        "app_version": session.app_version,
        "saved_at": session.saved_at,
        "dataset": session.dataset.to_json() if session.dataset else None,
        "model": session.model.to_json() if session.model else None,
        "parts": session.parts,
    }
    try:
        return json.dumps(document, indent=1, allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise SessionError(f"a part holds a value that cannot be saved ({exc})", path=path) from exc


def _write_zip(tmp: Path, text: str, session: Session, path: Path) -> None:
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(STATE_ENTRY, text)
        for part, arrays in session.arrays.items():
            for name, array in arrays.items():
                _write_array(zf, f"{ARRAY_PREFIX}{part}/{name}.npy", array, path)


def _write_array(zf: zipfile.ZipFile, entry: str, array: np.ndarray, path: Path) -> None:
    arr = np.asarray(array)
    if arr.dtype.hasobject:
        raise SessionError(f"{entry} is an object array, which cannot be saved safely", path=path)
    with zf.open(entry, "w", force_zip64=True) as fh:
        np.lib.format.write_array(fh, arr, allow_pickle=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.size <= 64:
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def read_session(path: str | Path) -> Session:
    """Read a session file; any damage gives a `SessionError` that names the file and what is wrong."""
    path = Path(path)
    hint = "the file is damaged or not a session; open the latest autosave instead (File ▸ Recover Autosave)"
    if not path.exists():
        raise SessionError("no such session file", path=path)
    regular_file(path, "session file", SessionError)
    limits = current_limits()
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                document = json.loads(read_zip_text(zf, STATE_ENTRY, path, limits))
            except KeyError as exc:
                raise SessionError(f"the file holds no {STATE_ENTRY}", path=path, hint=hint) from exc
            arrays: dict[str, dict[str, np.ndarray]] = {}
            members = [info for info in zf.infolist()
                       if info.filename.startswith(ARRAY_PREFIX) and info.filename.endswith(".npy")]
            limits.check_allocation(sum(int(info.file_size) for info in members), "the session's arrays", path)
            for info in members:
                part, _, name = info.filename[len(ARRAY_PREFIX):-4].partition("/")
                arrays.setdefault(part, {})[name] = read_zip_npy(zf, info, path, limits)
    except (SessionError, LimitError):
        raise
    except LatentExplorerError as exc:
        raise SessionError(exc.message, path=path, hint=exc.hint or hint) from exc
    except zipfile.BadZipFile as exc:
        raise SessionError(f"not a readable session file ({exc})", path=path, hint=hint) from exc
    except Exception as exc:  # noqa: BLE001 - damaged data surfaces as OSError, ValueError, zlib.error, EOFError...
        raise SessionError(f"the session file is damaged ({type(exc).__name__}: {exc})", path=path,
                           hint=hint) from exc
    if not isinstance(document, dict) or document.get("format") != SESSION_FORMAT:
        raise SessionError("not a Latent Explorer session (state.json has no session header)", path=path, hint=hint)
    version = document.get("version")
    if not isinstance(version, int) or version > SESSION_VERSION:
        raise SessionError(f"the session was written by a newer version (format {version}); this one reads "
                           f"up to {SESSION_VERSION}", path=path, hint="update Latent Explorer")
    parts = document.get("parts") or {}
    if not isinstance(parts, dict) or not all(isinstance(v, dict) for v in parts.values()):
        raise SessionError("the session's parts are malformed", path=path, hint=hint)
    return Session(dataset=SourceRef.from_json(document.get("dataset"), "dataset", path),
                   model=SourceRef.from_json(document.get("model"), "model", path),
                   parts=parts, arrays=arrays, saved_at=float(document.get("saved_at") or 0.0),
                   app_version=str(document.get("app_version", "")))


# ------------------------------------------------------------------------------------ reopening sources
@dataclass
class SourceProblem:
    """A reference that did not reopen as it was saved: ``reason`` is "missing", "changed" or "failed"."""

    what: str  # "dataset" | "model"
    reason: str
    ref: SourceRef
    message: str
    code_files: tuple[str, ...] = ()  # a model that would run code: the files; reopening needs the user's consent


@dataclass
class OpenedSources:
    dataset: Dataset | None = None
    model: Any = None
    codes: Codes | None = None
    dataset_spec: str = ""
    model_spec: str = ""
    problems: list[SourceProblem] = field(default_factory=list)


def session_code_artifact(session: Session, model_spec: str | None = None):
    """What reopening the session's model (or ``model_spec``) would run: a `CodeArtifact`, or None (no code).

    Lets the window ask before a session's model code runs, and the command line refuse naming the file.
    """
    from latent_explorer.core.models import model_code_artifact

    spec = model_spec or (session.model.spec if session.model is not None else None)
    if not spec:
        return None
    try:
        return model_code_artifact(spec)
    except LatentExplorerError:
        return None  # a broken manifest: reopening reports it as a problem, and runs nothing


def iter_open_sources(session: Session, dataset_spec: str | None = None, model_spec: str | None = None,
                      device: str | None = None, encode: bool = True, allow_code: bool = False) -> Job[OpenedSources]:
    """Reload a session's dataset and model (optionally from new locations) and encode.

    Nothing here raises for a moved or changed file: each becomes a `SourceProblem`, and whatever could be
    opened is returned, so the caller can report it and restore what still makes sense. A model that runs code
    loads only if ``allow_code`` (the user just agreed) or the `core.consent` policy agrees; otherwise it becomes
    a problem naming the files that would have run.
    """
    from latent_explorer.core.models import load_model

    out = OpenedSources()
    ref = session.dataset
    if ref is not None:
        spec = dataset_spec or ref.spec
        out.dataset_spec = spec
        located = SourceRef(spec, ref.fingerprint, ref.name, ref.options)
        if not located.exists():
            out.problems.append(SourceProblem("dataset", "missing", ref, f"the dataset {spec} is no longer there"))
        else:
            try:
                out.dataset = yield from iter_load_dataset(spec, **dataset_load_options(ref.options, spec_path(spec)))
            except LatentExplorerError as exc:
                out.problems.append(SourceProblem("dataset", "failed", ref, str(exc)))
            if out.dataset is not None and ref.fingerprint and out.dataset.fingerprint() != ref.fingerprint:
                out.problems.append(SourceProblem("dataset", "changed", ref,
                                                  f"the dataset {spec} has changed since the session was saved"))
    ref = session.model
    if ref is not None:
        spec = model_spec or ref.spec
        out.model_spec = spec
        located = SourceRef(spec, ref.fingerprint, ref.name)
        if not located.exists():
            out.problems.append(SourceProblem("model", "missing", ref, f"the model {spec} is no longer there"))
        else:
            yield Progress("loading model", 0, None, spec)
            samples = out.dataset.float_images(slice(0, 2)) if out.dataset is not None else None
            try:
                out.model = load_model(spec, device=device, check_samples=samples, allow_code=allow_code)
            except CodeNotAllowedError as exc:  # never run a session's model code without consent
                out.problems.append(SourceProblem("model", "failed", ref, str(exc), code_files=exc.code_files))
            except LatentExplorerError as exc:
                out.problems.append(SourceProblem("model", "failed", ref, str(exc)))
            if out.model is not None and ref.fingerprint and out.model.fingerprint() != ref.fingerprint:
                out.problems.append(SourceProblem("model", "changed", ref,
                                                  f"the model {spec} has changed since the session was saved"))
    if encode and out.model is not None and out.dataset is not None:
        out.codes = yield from iter_encode_cached(out.model, out.dataset)
    return out


def spec_path(spec: str) -> Path | None:
    """The path a dataset spec names, for messages (None for the built-in datasets)."""
    return None if SourceRef(spec).is_builtin else Path(spec).expanduser()


def describe_problems(problems: Iterable[SourceProblem]) -> str:
    return "\n".join(f"• {p.message}" for p in problems)


# ------------------------------------------------------------------------------------ autosave & crashes
def autosave_dir() -> Path:
    return data_dir() / "autosave"


def autosave_path() -> Path:
    return autosave_dir() / AUTOSAVE_NAME


def write_autosave(session: Session) -> Path:
    """Write the autosave, keeping the one before it, so a bad latest autosave still leaves a way back.

    The new file is written completely first; only then is the current autosave kept as the previous one (a
    hard link, renamed into place) and the new one renamed over it. Each step is one atomic rename, so a kill
    at any moment leaves ``autosave.lxs`` whole (old or new) and the previous one whole.
    """
    target = autosave_path()
    previous = target.with_name(AUTOSAVE_PREVIOUS_NAME)
    clean_stale_temporaries(target)
    clean_stale_temporaries(previous)
    session.saved_at = time.time()
    text = _document_text(session, target)
    try:
        with atomic_path(target, suffix=".part") as tmp:
            _write_zip(tmp, text, session, target)
            if target.exists():
                _keep_as(target, previous)
    except OSError as exc:
        raise SessionError(f"cannot write the autosave ({exc.strerror or exc})", path=target,
                           hint="check that the data folder is writable; the previous autosave is unchanged") from exc
    return target


def _keep_as(source: Path, target: Path) -> None:
    """Make ``target`` a copy of ``source`` atomically (a hard link where the file system has them)."""
    fd, tmp_name = tempfile.mkstemp(prefix=temporary_prefix(target), suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _usable(path: Path) -> bool:
    """A quick check that a file is a whole session (its zip directory and state.json are there)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return STATE_ENTRY in zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def autosaves() -> list[Path]:
    """Existing, whole autosaves, newest first."""
    folder = autosave_dir()
    found = [p for p in (folder / AUTOSAVE_NAME, folder / AUTOSAVE_PREVIOUS_NAME) if p.is_file() and _usable(p)]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def mark_clean_exit() -> None:
    """Record that the app closed normally: autosaves older than this are not crash leftovers."""
    marker = autosave_dir() / CLEAN_EXIT_NAME
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{time.time():.6f}\n")
    except OSError:
        pass  # a read-only data folder only costs the recovery offer


def last_clean_exit() -> float:
    marker = autosave_dir() / CLEAN_EXIT_NAME
    try:
        return float(marker.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0.0


def clean_autosave_temporaries() -> int:
    """Remove what autosaves killed mid-write left behind; called at start, before recovery is offered."""
    return clean_stale_temporaries(autosave_path()) + clean_stale_temporaries(autosave_dir() / AUTOSAVE_PREVIOUS_NAME)


def crash_autosave() -> Path | None:
    """The newest whole autosave left by a run that did not exit cleanly (newer than the last clean exit).

    Both the latest and the previous autosave are considered, so a damaged latest one still leaves a way back.
    """
    clean_autosave_temporaries()
    clean = last_clean_exit()
    for candidate in autosaves():
        if candidate.stat().st_mtime > clean:
            return candidate
    return None
