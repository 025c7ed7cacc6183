"""Plant a deliberate bug (a mutant) in a temporary copy of the repository and run the tests that should
catch it: "killed" when they fail, "survived" when they pass. The working tree is never changed.

Each mutant names a file, the exact text to replace (it must occur exactly once) and the replacement,
and the pytest arguments of the tests that must kill it::

    .venv/bin/python scripts/mutate.py                      # list the mutants
    .venv/bin/python scripts/mutate.py fresh_noise_never_applied repaint_sampler_ignores_window
    .venv/bin/python scripts/mutate.py --all --baseline     # every mutant; first the tests unmutated

A mutant whose text is no longer in its file (the code was rewritten) is reported "stale": update it
here. Exit status: 0 if every mutant run was killed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    file: str
    edits: tuple[tuple[str, str], ...]
    """(old text, new text) pairs, each old text found exactly once in ``file``."""
    tests: tuple[str, ...]
    """pytest arguments (paths, ``-k`` expressions) of the tests that must fail."""
    what: str


MUTANTS = {
    # Issue 12, section 1: the six mutants that survived the suite of the time.
    "repaint_node_ignores_window": Mutant(
        "nodes/nodes_repaint.py",
        (
            ("known_noise, start_percent, end_percent)", "known_noise)"),
            ("start_percent=start_percent,\n            end_percent=end_percent,", ""),
        ),
        ("tests/test_nodes_repaint.py", "-k", "every_input"),
        "RePaint Sampler and KSampler (RePaint) ignore start_percent and end_percent",
    ),
    "fresh_noise_never_applied": Mutant(
        "nodes/sampler_host.py",
        (('if known_noise == "fresh" and', "if False and"),),
        ("tests/test_nodes_repaint.py", "-k", "known_noise or every_input"),
        'known_noise="fresh" leaves the known region with the sampling noise (the wrapper is never applied)',
    ),
    "outpaint_same_seed_every_tile": Mutant(
        "nodes/outpaint_host.py",
        (("stream_seed(run.seed, t.index)", "stream_seed(run.seed, 0)"),),
        ("tests/test_nodes_outpaint_modes.py", "tests/test_nodes_extend.py"),
        "every tile of Outpaint (Tiled) gets the same noise seed",
    ),
    "tiles_overlap_halved": Mutant(
        "outpaint/tiles.py",
        (("(span - size) / (size - overlap)", "(span - size) / (size - overlap // 2)"),),
        ("tests/test_outpaint_tiles.py", "tests/test_outpaint_driver.py"),
        "plan_tiles places tiles with half the overlap it promises",
    ),
    "to_uint8_torch_floors": Mutant(
        "outpaint/composite.py",
        (
            (
                'v = torch.round(v) if rounding == "round" else torch.floor(v)',
                "v = torch.floor(v)",
            ),
        ),
        ("tests/test_outpaint_composite.py",),
        "to_uint8 of a torch tensor rounds down (floor) instead of to the nearest value",
    ),
    "thigh_ratio_times_1_2": Mutant(
        "pose/complete.py",
        (("THIGH = HIP_HEIGHT - KNEE_HEIGHT", "THIGH = (HIP_HEIGHT - KNEE_HEIGHT) * 1.2"),),
        ("tests/test_pose_complete.py",),
        "the completed thigh is 1.2 times the published ratio (Winter 2009, Fig. 4.1)",
    ),
    # Found by going through tests/node_schema.json input by input (issue 12: every input changes an output).
    "power_scheduler_ignores_power": Mutant(
        "samplers/schedule.py",
        (("(k / (steps - 1)) ** power for k", "(k / (steps - 1)) ** 2.5 for k"),),
        ("tests/test_nodes_repaint.py", "-k", "power_scheduler"),
        "Power Scheduler (RePaint) always uses power 2.5, its default",
    ),
    "repaint_mask_ignores_seed": Mutant(
        "nodes/nodes_repaint.py",
        (("batch_size, seed % 2**63)", "batch_size, 0)"),),
        ("tests/test_nodes_repaint.py", "-k", "mask_node"),
        "RePaint Mask draws the same thin/thick strokes for every seed",
    ),
    "pose_controlnet_ignores_window": Mutant(
        "nodes/control_host.py",
        (("(start_percent, end_percent)", "(0.0, 1.0)"),),
        ("tests/test_nodes_control.py",),
        "Pose ControlNet Apply applies both ControlNets over the whole schedule",
    ),
    "caption_ignores_num_beams": Mutant(
        "nodes/nodes_caption.py",
        (("num_beams=num_beams,", "num_beams=3,"),),
        ("tests/test_nodes_caption.py", "-k", "load_blip_and_caption"),
        "Caption Image (BLIP) always searches with 3 beams",
    ),
}


def _copy_tree(destination: Path) -> None:
    """Copy the files git tracks or would track (the working tree as it is) into ``destination``, and
    link the environment (``.venv``)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = destination / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    if (ROOT / ".venv").exists():
        (destination / ".venv").symlink_to((ROOT / ".venv").resolve())


def plant(tree: Path, mutant: Mutant) -> bool:
    """Apply ``mutant``'s edits to ``tree``; False (nothing written) if an old text is not there once."""
    path = tree / mutant.file
    if not path.is_file():
        return False
    text = path.read_text()
    for old, new in mutant.edits:
        if text.count(old) != 1:
            return False
        text = text.replace(old, new)
    path.write_text(text)
    return True


def run_tests(tree: Path, tests: tuple[str, ...], timeout: float) -> tuple[int, float]:
    """pytest ``tests`` in ``tree``, stopping at the first failure: (exit status, seconds)."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", *tests],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        status = done.returncode
    except subprocess.TimeoutExpired:
        status = -1
    return status, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: list them)")
    parser.add_argument("--all", action="store_true", help="run every mutant")
    parser.add_argument("--baseline", action="store_true", help="first run each mutant's tests unmutated")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per test run")
    args = parser.parse_args(argv)
    names = list(MUTANTS) if args.all else args.names
    if not names:
        for name, m in MUTANTS.items():
            print(f"{name:32s} {m.file}: {m.what}")
        return 0
    unknown = [n for n in names if n not in MUTANTS]
    if unknown:
        parser.error(f"unknown mutants {unknown}; known: {', '.join(MUTANTS)}")
    results = {}
    for name in names:
        mutant = MUTANTS[name]
        with tempfile.TemporaryDirectory(prefix=f"mutant_{name}_") as tmp:
            tree = Path(tmp)
            _copy_tree(tree)
            if args.baseline:
                status, seconds = run_tests(tree, mutant.tests, args.timeout)
                if status != 0:
                    results[name] = (
                        f"baseline fails (pytest exit {status}, {seconds:.0f} s): fix the tests first"
                    )
                    print(f"{name}: {results[name]}", flush=True)
                    continue
            if not plant(tree, mutant):
                results[name] = "stale (its text is not in the file exactly once): update scripts/mutate.py"
            else:
                status, seconds = run_tests(tree, mutant.tests, args.timeout)
                verdict = {0: "SURVIVED", 1: "killed", -1: "timed out"}.get(
                    status, f"error (pytest exit {status})"
                )
                results[name] = f"{verdict} ({seconds:.0f} s)"
        print(f"{name}: {results[name]}", flush=True)
    return 0 if all(r.startswith("killed") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
