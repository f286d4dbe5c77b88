"""The log file: where it goes, rotation, warnings captured there, and a folder that cannot be written."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from latent_explorer.core import logs


@pytest.fixture
def fresh_logging():
    logs.stop_logging()
    yield
    logs.stop_logging()


ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import logging, sys, warnings
from latent_explorer.core.logs import configure_logging
print(configure_logging(sys.argv[1]))
warnings.warn("an old API", FutureWarning)
logging.getLogger("latent_explorer.test").warning("a message of the app")
"""


def test_warnings_go_to_the_file_not_the_terminal(tmp_path):
    path = tmp_path / "state" / "latent-explorer.log"
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, timeout=120,
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and result.stdout.strip() == str(path)
    assert result.stderr == ""  # neither the warning nor the app's message reach the terminal
    text = path.read_text()
    assert "FutureWarning: an old API" in text and "a message of the app" in text and "started, pid" in text


def test_configured_once_with_a_bounded_rotating_file(tmp_path, fresh_logging):
    path = tmp_path / "state" / "latent-explorer.log"
    assert logs.configure_logging(path) == path
    assert logs.configure_logging(tmp_path / "other.log") == path  # once per process: no second handler
    assert logs.log_file() == path
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logs.RotatingFileHandler))
    assert handler.maxBytes == logs.MAX_BYTES and handler.backupCount == logs.BACKUPS


def test_rotation_bounds_the_size(tmp_path, fresh_logging, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    path = tmp_path / "small.log"
    logs.configure_logging(path)
    for i in range(400):
        logging.getLogger("latent_explorer.test").info("line %d %s", i, "x" * 40)
    files = sorted(tmp_path.glob("small.log*"))
    assert len(files) == 1 + logs.BACKUPS and all(f.stat().st_size <= 2100 for f in files)


def test_default_path_and_an_unwritable_folder(tmp_path, monkeypatch, fresh_logging):
    monkeypatch.setenv(logs.LOG_ENV, str(tmp_path / "here.log"))
    assert logs.default_log_path() == tmp_path / "here.log"
    monkeypatch.delenv(logs.LOG_ENV)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert logs.default_log_path() == tmp_path / "xdg" / "latent-explorer" / "latent-explorer.log"
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert logs.configure_logging(blocker / "x.log") is None
    assert logs.log_file() is None and str(blocker) in (logs.log_problem() or "")
