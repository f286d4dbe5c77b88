"""``lx.show`` from a plain Python process (offscreen): the window opens, and its selection and z read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json
import numpy as np
import latent_explorer as lx

handle = lx.show(model="demo:digits-conv-ae", data="digits")
codes = handle.wait_until_ready(timeout=240)
handle.state.select([7, 3, 3, 11])          # what a lasso in the scatter writes
first = handle.selection.tolist()
handle.select(np.arange(100, 105))          # and from the script
second = handle.selection.tolist()
handle.set_current_z(codes.z[42])
handle.process_events(0.2)
z = handle.current_z
given = lx.show(model="demo:digits-conv-ae", data="digits", codes=codes)  # no encoding: the codes are given
same = given.codes is codes
handle.close(); given.close()
print(json.dumps({"n": len(codes), "first": first, "second": second, "z_ok": bool(np.array_equal(z, codes.z[42])),
                  "same": same, "open": handle.is_open}))
"""


def test_show_from_a_plain_python_process(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               LATENT_EXPLORER_CACHE=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"n": 1797, "first": [3, 7, 11], "second": [100, 101, 102, 103, 104], "z_ok": True,
                      "same": True, "open": False}
