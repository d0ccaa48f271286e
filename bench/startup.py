"""Start-up time of the `tom` command: median wall time of `tom --help` and `tom plugins`
over 10 runs each (after one warm-up run), with every installed plugin.

Figure to reach on the reference 2-core machine: `tom --help` at most 0.25 s (the TOM
Toolkit's `manage.py help` takes 1.2 s there).

    python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tom_command() -> list[str]:
    exe = Path(sys.executable).with_name("tom")
    return [str(exe)] if exe.exists() else [shutil.which("tom") or "tom"]


def timed(args: list[str], cwd: str, runs: int) -> list[float]:
    subprocess.run(args, cwd=cwd, capture_output=True, check=True)  # warm-up (page cache, .pyc)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, cwd=cwd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    tom = tom_command()
    with tempfile.TemporaryDirectory() as home:
        subprocess.run([*tom, "init", home], capture_output=True, check=True)
        env_note = os.environ.get("TOM_LOAD_PLUGINS")
        print(f"startup benchmark: {options.runs} runs each, median wall time"
              + (f" (TOM_LOAD_PLUGINS={env_note!r})" if env_note is not None else ""))
        for label, args, goal in (("tom --help", ["--help"], 0.25), ("tom plugins", ["plugins"], None),
                                  ("tom --version", ["--version"], None)):
            times = timed([*tom, *args], home, options.runs)
            median = statistics.median(times)
            verdict = "" if goal is None else (f"  (goal <= {goal:.2f} s: {'met' if median <= goal else 'NOT met'})")
            print(f"  {label:<14} median {median * 1000:7.1f} ms   min {min(times) * 1000:7.1f} ms{verdict}")


if __name__ == "__main__":
    main()
