"""Run every benchmark in this folder: ``python tests/benchmarks/run_all.py [--quick] [--json PATH]``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", help="write all figures, keyed by benchmark, to this file")
    parser.add_argument("only", nargs="*", help="benchmark names to run (default: all)")
    args = parser.parse_args()
    scripts = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_") and p.name != "run_all.py")
    if args.only:
        scripts = [p for p in scripts if p.stem in args.only]
    results, failed = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for script in scripts:
            out = Path(tmp) / f"{script.stem}.json"
            cmd = [sys.executable, str(script), "--json", str(out)] + (["--quick"] if args.quick else [])
            code = subprocess.call(cmd)
            if code != 0 or not out.exists():
                failed.append(script.stem)
                continue
            results[script.stem] = json.loads(out.read_text())
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    missed = [f"{b}: {f['name']}" for b, r in results.items() for f in r["figures"] if f.get("ok") is False]
    print(f"\n{len(results)} benchmarks ran; failed to run: {failed or 'none'}; targets missed: {missed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
