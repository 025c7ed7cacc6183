"""Benchmark (not a test): the test suite's wall time today against the suite of an earlier commit, in one run.

    .venv/bin/python bench/bench_suite.py [--base 017e50b] [--rounds 2] [--json bench/results/suite.json]

Checks the ``--base`` commit out into a temporary git worktree (its ``.venv`` a link to this one), then
runs the README's test command (``python -m pytest -q``, each suite's own pytest configuration) in the
base worktree and in this working tree, alternately (base, today, base, today, ...) so that machine drift
and other work on the machine hit both sides; then removes the worktree. Reports wall seconds, the CPU
seconds of each run (user + system, the pytest process and every child it waited for), the machine's load
average before each run, and the ratio today / base of the summed wall times (< 1: today is faster).
Issue 12's goal: the suite is faster than at 017e50b (295 tests), the commit the issue was filed against.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def run_suite(tree: Path, timeout: float) -> dict:
    """The README's test command in ``tree``: wall and CPU seconds, tests passed, exit status."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OMP_NUM_THREADS"))}
    env["RUFF_NO_CACHE"] = "true"  # both lint tests start cold: a cache left in one tree is no head start
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [str(tree / ".venv" / "bin" / "python"), "-m", "pytest", "-q"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    passed = re.search(r"(\d+) passed", summary)
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "passed": int(passed.group(1)) if passed else 0,
        "returncode": done.returncode,
        "summary": summary,
        "load_before": round(load, 2),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="017e50b", help="the earlier commit (default: issue 12's)")
    parser.add_argument("--rounds", type=int, default=2, help="base/today pairs (default 2)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per suite run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    base_sha = git("rev-parse", args.base)
    today_sha = git("rev-parse", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        base_tree = Path(tmp) / "base"
        git("worktree", "add", "--detach", str(base_tree), base_sha)
        try:
            (base_tree / ".venv").symlink_to((ROOT / ".venv").resolve())
            for round_ in range(args.rounds):
                for name, tree in (("base", base_tree), ("today", ROOT)):
                    row = {"round": round_ + 1, "suite": name, **run_suite(tree, args.timeout)}
                    rows.append(row)
                    print(
                        f"round {row['round']} {name:5s}: {row['seconds']:6.1f} s wall, "
                        f"{row['cpu_seconds']:6.1f} s CPU, load {row['load_before']:.2f} before; "
                        f"{row['summary']}",
                        flush=True,
                    )
        finally:
            git("worktree", "remove", "--force", str(base_tree))
            git("worktree", "prune")

    def total(name):
        return sum(r["seconds"] for r in rows if r["suite"] == name)

    pairs = [
        (b["seconds"], t["seconds"])
        for b, t in zip(rows[0::2], rows[1::2])
        if b["suite"] == "base" and t["suite"] == "today"
    ]
    result = {
        "what": "wall seconds of `python -m pytest -q` at the base commit and today, alternating",
        "base_commit": base_sha,
        "today_commit": today_sha + (" + uncommitted changes" if dirty else ""),
        "cores": len(os.sched_getaffinity(0)),
        "runs": rows,
        "ratio_today_over_base": round(total("today") / total("base"), 3),
        "ratio_per_round": [round(t / b, 3) for b, t in pairs],
        "all_passed": all(r["returncode"] == 0 for r in rows),
    }
    print(
        f"today / base = {result['ratio_today_over_base']:.3f} (per round {result['ratio_per_round']}); "
        f"base {base_sha[:7]}, today {today_sha[:7]}{' + changes' if dirty else ''}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
