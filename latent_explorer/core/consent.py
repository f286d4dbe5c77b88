"""Whether a model may run code: one policy, asked by every way of opening a model.

Python sources, TorchScript modules, ``torch.export`` programs (``.pt2``) and whole pickles all execute code
when loaded. Nothing of the kind is loaded until `CodePolicy.require` agreed, which happens when

- the caller gives explicit consent for this load (the window's "Run code?" answer, ``--allow-code``), or
- the policy allows everything (the command line with ``--allow-code``/``--trust``), or
- the user agreed before to *this exact content*: consent is remembered per content hash (the manifest and
  every file it names), so an edited source or a swapped weights file asks again. Remembered consent can be
  listed and revoked (``latent-explorer trust --list / --revoke``, `ConsentStore.revoke`).

The command line never uses remembered consent: each run says ``--allow-code`` or does not run code, so a
script behaves the same on every machine. The window's policy remembers what the user agreed to.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latent_explorer.core.atomic import write_text_atomic
from latent_explorer.core.errors import CodeNotAllowedError, LatentExplorerError
from latent_explorer.core.userdirs import data_dir

CONSENT_FILE = "code-consent.json"
CONSENT_VERSION = 1

FORMAT_WHY = {
    "python": "it imports a Python source file",
    "torchscript": "a TorchScript module runs its own compiled code",
    "torch.export": "a torch.export program (.pt2) runs its own graph and may call custom operators",
    "pickle": "unpickling a whole model runs code stored in the file",
}


@dataclass(frozen=True)
class CodeArtifact:
    """A model that would run code: its format, the files that would run and the hash of everything it reads."""

    format: str
    source: Path  # the model.toml that names it
    code_files: tuple[Path, ...]  # what would execute
    content_hash: str

    def describe(self) -> str:
        files = ", ".join(str(f) for f in self.code_files)
        return f"loading this model runs code from {files} ({FORMAT_WHY.get(self.format, self.format)})"


@dataclass(frozen=True)
class Grant:
    content_hash: str
    format: str
    files: tuple[str, ...]
    granted_at: float


class ConsentStore:
    """Remembered consent, a small JSON file in the user's data folder (resolved at each use)."""

    def __init__(self, path: Path | None = None):
        self._path = path
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path if self._path is not None else data_dir() / CONSENT_FILE

    def _read(self) -> dict[str, dict[str, Any]]:
        """The grants; a missing, damaged or foreign file counts as no consent at all (we ask again)."""
        try:
            if not self.path.is_file() or self.path.stat().st_size > 4 << 20:
                return {}
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        grants = document.get("grants") if isinstance(document, dict) else None
        if not isinstance(grants, dict):
            return {}
        return {k: v for k, v in grants.items() if isinstance(k, str) and isinstance(v, dict)}

    def _write(self, grants: dict[str, dict[str, Any]]) -> None:
        try:
            write_text_atomic(self.path, json.dumps({"version": CONSENT_VERSION, "grants": grants}, indent=1))
        except OSError as exc:
            raise LatentExplorerError(f"cannot save the consent list ({exc.strerror or exc})", path=self.path,
                                      hint="check that the data folder is writable") from exc

    def is_granted(self, content_hash: str) -> bool:
        return bool(content_hash) and content_hash in self._read()

    def grant(self, artifact: CodeArtifact) -> None:
        with self._lock:
            grants = self._read()
            grants[artifact.content_hash] = {"format": artifact.format, "files": [str(f) for f in artifact.code_files],
                                             "granted_at": time.time()}
            self._write(grants)

    def grants(self) -> list[Grant]:
        return [Grant(h, str(g.get("format", "")), tuple(str(f) for f in g.get("files", []) or []),
                      float(g.get("granted_at", 0) or 0)) for h, g in self._read().items()]

    def revoke(self, key: str) -> int:
        """Forget consent for a content hash, or for every grant that names this file; returns how many."""
        with self._lock:
            grants = self._read()
            resolved = str(Path(key).expanduser().resolve()) if key else ""
            drop = [h for h, g in grants.items()
                    if h == key or resolved in [str(Path(f).resolve()) for f in g.get("files", []) or []]]
            for h in drop:
                del grants[h]
            if drop:
                self._write(grants)
            return len(drop)

    def revoke_all(self) -> int:
        with self._lock:
            n = len(self._read())
            self._write({})
            return n


class CodePolicy:
    """Decides whether a model may run code; raises `CodeNotAllowedError` (an `UnsafeFileError`) when not."""

    def __init__(self, allow_all: bool = False, store: ConsentStore | None = None, remember: bool = True,
                 where: str = "window"):
        self.allow_all = allow_all
        self.store = store
        self.remember = remember
        self.where = where  # "window" or "command line": only changes the hint

    def permits(self, artifact: CodeArtifact, explicit: bool = False) -> bool:
        if explicit or self.allow_all:
            return True
        return self.store is not None and self.store.is_granted(artifact.content_hash)

    def require(self, artifact: CodeArtifact, explicit: bool = False) -> None:
        """Return if the code may run (remembering explicit consent); else raise naming the files."""
        if not self.permits(artifact, explicit):
            how = ("pass --allow-code (or --trust)" if self.where == "command line"
                   else "answer Yes when asked, or start with --allow-code")
            raise CodeNotAllowedError(
                artifact.describe(), path=artifact.source,
                hint=f"only if you trust where it comes from: {how}; a safer model is a checkpoint folder "
                     "(config.json + weights.safetensors), which runs no code",
                code_files=tuple(str(f) for f in artifact.code_files), content_hash=artifact.content_hash)
        if explicit and self.remember and self.store is not None and not self.store.is_granted(artifact.content_hash):
            self.store.grant(artifact)


def command_line_policy(allow_code: bool) -> CodePolicy:
    """The command line: code runs only with ``--allow-code`` for this run; nothing is remembered or recalled."""
    return CodePolicy(allow_all=allow_code, store=None, remember=False, where="command line")


_policy_lock = threading.Lock()
_policy: CodePolicy | None = None


def current_policy() -> CodePolicy:
    """The policy of this process: the window's remembering one unless an entry point installed another."""
    global _policy
    with _policy_lock:
        if _policy is None:
            _policy = CodePolicy(store=ConsentStore())
        return _policy


def install_policy(policy: CodePolicy | None) -> CodePolicy | None:
    """Make ``policy`` the one every model load asks (None: back to the default); returns the previous one."""
    global _policy
    with _policy_lock:
        previous, _policy = _policy, policy
        return previous
