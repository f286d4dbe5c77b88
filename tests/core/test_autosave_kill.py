"""A ``kill -9`` during autosave, at random moments, always leaves a whole session that the next start offers.

One helper process imports the session module once, then for each trial forks a writer that autosaves in a loop
and kills it with SIGKILL after a random delay; the helper then does what the next start does (clean stale
temporaries, find the crash autosave) and reads the session back. The fork happens before any torch work, in a
process that has started no threads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from latent_explorer.core.atomic import stale_temporaries
from latent_explorer.core.session import (
    AUTOSAVE_PREVIOUS_NAME,
    Session,
    autosave_path,
    crash_autosave,
    read_session,
    write_autosave,
)

TRIALS = 24

HELPER = r'''
import json, os, random, signal, sys, time
import numpy as np
from latent_explorer.core.session import Session, write_autosave, crash_autosave, read_session, autosave_dir

def session(generation):
    s = Session()
    rng = np.random.default_rng(generation)
    s.add_part("marker", {"generation": generation}, {"noise": rng.random(600_000).astype(np.float32)})
    return s

write_autosave(session(0))
rng = random.Random(int(sys.argv[1]))
results = []
for trial in range(int(sys.argv[2])):
    delay = rng.uniform(0.0, 0.35)
    pid = os.fork()
    if pid == 0:  # the writer: autosave until killed
        generation = 1 + trial * 1000
        while True:
            write_autosave(session(generation))
            generation += 1
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    leftovers = sorted(p.name for p in autosave_dir().iterdir() if p.name.endswith(".part"))
    found = crash_autosave()  # what the next start does: clean temporaries, then look for a crash autosave
    entry = {"delay": delay, "leftovers_before": leftovers, "found": found.name if found else None}
    try:
        entry["generation"] = read_session(found).parts["marker"]["generation"] if found else None
    except Exception as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"
    entry["leftovers_after"] = sorted(p.name for p in autosave_dir().iterdir() if p.name.endswith(".part"))
    results.append(entry)
print(json.dumps(results))
'''


def test_kill_during_autosave_always_leaves_a_recoverable_session(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "LATENT_EXPLORER_DATA": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", HELPER, "7", str(TRIALS)], capture_output=True, text=True,
                          env=env, cwd=root, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == TRIALS
    bad = [r for r in results if r["found"] is None or r.get("error") or r["generation"] is None
           or r["leftovers_after"]]
    assert not bad, json.dumps(bad, indent=1)
    # the trials did interrupt writes: some kills left temporaries that the next start removed
    assert any(r["leftovers_before"] for r in results), "no kill landed during a write; the test proves nothing"


def test_recovery_falls_back_to_the_previous_autosave(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_EXPLORER_DATA", str(tmp_path))
    for generation in (1, 2):
        session = Session()
        session.add_part("marker", {"generation": generation})
        write_autosave(session)
    latest = autosave_path()
    latest.write_bytes(latest.read_bytes()[:100])  # damaged (a disk error, a copy cut short)
    found = crash_autosave()
    assert found is not None and found.name == AUTOSAVE_PREVIOUS_NAME
    assert read_session(found).parts["marker"]["generation"] == 1


def test_stale_temporaries_of_dead_processes_are_removed_live_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_EXPLORER_DATA", str(tmp_path))
    session = Session()
    session.add_part("marker", {"generation": 1}, {"a": np.arange(3)})
    target = write_autosave(session)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = target.with_name(f".{target.name}.{int(dead.stdout)}.abc123.part")
    stale.write_bytes(b"half a zip")
    live = target.with_name(f".{target.name}.{os.getppid()}.def456.part")  # our parent runs: a save in progress
    live.write_bytes(b"being written")
    assert stale_temporaries(target) == [stale]
    assert crash_autosave() == target
    assert not stale.exists() and live.exists()
