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
        "repaint_extend/nodes/repaint.py",
        (
            ("known_noise, start_percent, end_percent)", "known_noise)"),
            ("start_percent=start_percent,\n            end_percent=end_percent,", ""),
        ),
        ("tests/integration/test_nodes_repaint.py", "-k", "every_input"),
        "RePaint Sampler and KSampler (RePaint) ignore start_percent and end_percent",
    ),
    "fresh_noise_never_applied": Mutant(
        "repaint_extend/adapters/sampler.py",
        (('if known_noise == "fresh" and', "if False and"),),
        ("tests/integration/test_nodes_repaint.py", "-k", "known_noise or every_input"),
        'known_noise="fresh" leaves the known region with the sampling noise (the wrapper is never applied)',
    ),
    "outpaint_same_seed_every_tile": Mutant(
        "repaint_extend/adapters/outpaint.py",
        (("stream_seed(run.settings.seed, t.index)", "stream_seed(run.settings.seed, 0)"),),
        ("tests/integration/test_nodes_outpaint_modes.py", "tests/integration/test_nodes_extend.py"),
        "every tile of Outpaint (Tiled) gets the same noise seed",
    ),
    "tiles_overlap_halved": Mutant(
        "repaint_extend/outpaint/tiles.py",
        (("(span - size) / (size - overlap)", "(span - size) / (size - overlap // 2)"),),
        ("tests/unit/test_outpaint_tiles.py", "tests/unit/test_outpaint_driver.py"),
        "plan_tiles places tiles with half the overlap it promises",
    ),
    "to_uint8_torch_floors": Mutant(
        "repaint_extend/outpaint/composite.py",
        (
            (
                'v = torch.round(v) if rounding == "round" else torch.floor(v)',
                "v = torch.floor(v)",
            ),
        ),
        ("tests/unit/test_outpaint_composite.py",),
        "to_uint8 of a torch tensor rounds down (floor) instead of to the nearest value",
    ),
    "thigh_ratio_times_1_2": Mutant(
        "repaint_extend/pose/complete.py",
        (("THIGH = HIP_HEIGHT - KNEE_HEIGHT", "THIGH = (HIP_HEIGHT - KNEE_HEIGHT) * 1.2"),),
        ("tests/unit/test_pose_complete.py",),
        "the completed thigh is 1.2 times the published ratio (Winter 2009, Fig. 4.1)",
    ),
    # Found by going through tests/node_schema.json input by input (issue 12: every input changes an output).
    "power_scheduler_ignores_power": Mutant(
        "repaint_extend/samplers/schedule.py",
        (("(k / (steps - 1)) ** power for k", "(k / (steps - 1)) ** 2.5 for k"),),
        ("tests/integration/test_nodes_repaint.py", "-k", "power_scheduler"),
        "Power Scheduler (RePaint) always uses power 2.5, its default",
    ),
    "repaint_mask_ignores_seed": Mutant(
        "repaint_extend/nodes/repaint.py",
        (("batch_size, seed % 2**63)", "batch_size, 0)"),),
        ("tests/integration/test_nodes_repaint.py", "-k", "mask_node"),
        "RePaint Mask draws the same thin/thick strokes for every seed",
    ),
    "pose_controlnet_ignores_window": Mutant(
        "repaint_extend/adapters/control.py",
        (("(start_percent, end_percent)", "(0.0, 1.0)"),),
        ("tests/integration/test_nodes_control.py",),
        "Pose ControlNet Apply applies both ControlNets over the whole schedule",
    ),
    "caption_ignores_num_beams": Mutant(
        "repaint_extend/nodes/caption.py",
        (("num_beams=num_beams,", "num_beams=3,"),),
        ("tests/integration/test_nodes_caption.py", "-k", "load_blip_and_caption"),
        "Caption Image (BLIP) always searches with 3 beams",
    ),
}

# The pose nodes, input by input (issue 12's second pass over tests/node_schema.json): each mutant makes
# one node ignore one input (a fixed value in its place).
_POSE_NODE_TESTS = ("tests/integration/test_nodes_pose.py", "-k", "passes or reads_the_coordinates")
_SHORT = {
    "Pose Detect (MediaPipe)": "detect",
    "Pose Complete Legs": "complete_legs",
    "Pose Pad Image/Mask/Pose": "pad",
    "Pose Render": "render",
    "Pose Load JSON": "load_json",
    "Pose Edit": "edit",
}
MUTANTS.update(
    {
        f"{_SHORT[node]}_node_ignores_{name}": Mutant(
            "repaint_extend/nodes/pose.py",
            ((old, new),),
            _POSE_NODE_TESTS,
            f"{node} ignores its input {name}",
        )
        for node, name, old, new in (
            (
                "Pose Detect (MediaPipe)",
                "visibility",
                "visibility=visibility, hands",
                "visibility=0.5, hands",
            ),
            ("Pose Complete Legs", "stance", "stance=stance", 'stance="straight"'),
            ("Pose Complete Legs", "symmetry", "symmetry=symmetry", "symmetry=True"),
            ("Pose Complete Legs", "use_detector_guess", "use_prior=use_detector_guess", "use_prior=True"),
            ("Pose Complete Legs", "feet", "feet=feet)", "feet=True)"),
            ("Pose Pad Image/Mask/Pose", "padding", "padding=padding", 'padding="manual"'),
            ("Pose Pad Image/Mask/Pose", "left", "            left,\n", "            8,\n"),
            ("Pose Pad Image/Mask/Pose", "top", "            top,\n", "            8,\n"),
            ("Pose Pad Image/Mask/Pose", "right", "            right,\n", "            8,\n"),
            ("Pose Pad Image/Mask/Pose", "bottom", "            bottom,\n", "            16,\n"),
            ("Pose Pad Image/Mask/Pose", "margin", "margin=int(margin)", "margin=8"),
            ("Pose Pad Image/Mask/Pose", "multiple", "multiple=int(multiple)", "multiple=16"),
            ("Pose Pad Image/Mask/Pose", "fill", "mode=fill", 'mode="edge"'),
            ("Pose Pad Image/Mask/Pose", "grow", "grow=grow", "grow=0"),
            ("Pose Pad Image/Mask/Pose", "feather", "feather=feather", "feather=0"),
            ("Pose Pad Image/Mask/Pose", "mask", "            mask,\n", "            None,\n"),
            ("Pose Render", "body", "draw_body=body", "draw_body=True"),
            ("Pose Render", "feet", "draw_feet=feet", "draw_feet=True"),
            ("Pose Render", "hands", "draw_hands=hands", "draw_hands=True"),
            ("Pose Render", "face", "draw_face=face", "draw_face=True"),
            ("Pose Load JSON", "coordinates", "coords=coordinates", 'coords="auto"'),
            ("Pose Edit", "person", "set_point(f, person, point, x, y)", "set_point(f, 0, point, x, y)"),
            (
                "Pose Edit",
                "point",
                "set_point(f, person, point, x, y)",
                'set_point(f, person, "left_ankle", x, y)',
            ),
            (
                "Pose Edit",
                "limb",
                "move_limb(f, person, limb, x, y)",
                'move_limb(f, person, "left_shank", x, y)',
            ),
            ("Pose Edit", "x", "move_limb(f, person, limb, x, y)", "move_limb(f, person, limb, 10.0, y)"),
            ("Pose Edit", "y", "move_limb(f, person, limb, x, y)", "move_limb(f, person, limb, x, 20.0)"),
            ("Pose Edit", "value", "scale_limb(f, person, limb, value)", "scale_limb(f, person, limb, 1.5)"),
            ("Pose Edit", "operation", '"rotate_limb": lambda f', '"rotate_limb_": lambda f'),
        )
    }
)

_OUTPAINT_TILE_TESTS = ("tests/integration/test_nodes_outpaint_modes.py", "-k", "reach_every_tile")
MUTANTS.update(
    {
        "adm_loader_ignores_num_heads": Mutant(
            "repaint_extend/nodes/pixel.py",
            (("num_head_channels, num_heads, class_label)", "num_head_channels, 4, class_label)"),),
            ("tests/integration/test_nodes_pixel.py", "-k", "num_heads"),
            "Load ADM Pixel Model always uses 4 heads",
        ),
        "pose_controlnet_uses_the_inpaint_net_for_the_pose": Mutant(
            "repaint_extend/adapters/control.py",
            (
                (
                    "negative, control_net, pose_image, strength",
                    "negative, inpaint_control_net or control_net, pose_image, strength",
                ),
            ),
            ("tests/integration/test_nodes_control.py", "-k", "come_from"),
            "Pose ControlNet Apply puts the pose hint on the inpaint ControlNet when one is given",
        ),
        "composite_ignores_color_match_band": Mutant(
            "repaint_extend/nodes/outpaint.py",
            (("band=color_match_band)", "band=32)"),),
            ("tests/integration/test_nodes_extend.py", "-k", "composite_node"),
            "Outpaint Composite matches colours to a 32 px band whatever the input says",
        ),
        "outpaint_ignores_cfg": Mutant(
            "repaint_extend/adapters/outpaint.py",
            (("            self.settings.cfg,\n", "            1.0,\n"),),
            _OUTPAINT_TILE_TESTS,
            "Outpaint (Tiled) samples at cfg 1",
        ),
        "outpaint_ignores_scheduler": Mutant(
            "repaint_extend/adapters/outpaint.py",
            (
                (
                    "ksampler_sigmas(self.model, self.settings.scheduler,",
                    'ksampler_sigmas(self.model, "normal",',
                ),
            ),
            _OUTPAINT_TILE_TESTS,
            "Outpaint (Tiled) always uses the normal scheduler",
        ),
        "outpaint_square_tiles": Mutant(
            "repaint_extend/outpaint/settings.py",
            (("return (self.tile_height, self.tile_width)", "return (self.tile_width, self.tile_width)"),),
            _OUTPAINT_TILE_TESTS,
            "Outpaint (Tiled) ignores tile_height (square tiles of tile_width)",
        ),
        "outpaint_ignores_control_window": Mutant(
            "repaint_extend/outpaint/settings.py",
            (
                (
                    "return (self.control_strength, self.control_start, self.control_end)",
                    "return (1.0, 0.0, 1.0)",
                ),
            ),
            _OUTPAINT_TILE_TESTS,
            "Outpaint (Tiled) applies its ControlNet at full strength over the whole schedule",
        ),
        "outpaint_negative_is_positive": Mutant(
            "repaint_extend/adapters/outpaint.py",
            (("pos, neg = self.positive, self.negative", "pos, neg = self.positive, self.positive"),),
            _OUTPAINT_TILE_TESTS,
            "Outpaint (Tiled) samples every tile with the positive prompt as the negative one",
        ),
        "outpaint_ignores_sigmas": Mutant(
            "repaint_extend/nodes/outpaint.py",
            (("            sigmas=sigmas,\n", "            sigmas=None,\n"),),
            ("tests/integration/test_nodes_outpaint_modes.py", "-k", "given_sigmas"),
            "Outpaint (Tiled) ignores a given schedule (steps and scheduler instead)",
        ),
        "outpaint_refines_on_every_given_sigma": Mutant(
            "repaint_extend/adapters/outpaint.py",
            (
                (
                    "return self.given_sigmas[partial_start(self.given_sigmas.tolist(), start) :]",
                    "return self.given_sigmas",
                ),
            ),
            ("tests/integration/test_nodes_outpaint_modes.py", "-k", "given_sigmas"),
            "the coarse refinement re-noises to the top of a given schedule instead of denoise 0.6",
        ),
        "demo_correctors_not_set": Mutant(
            "runner/demo.py",
            (('"cfg": 1.0, "corrector_steps": 2}', '"cfg": 1.0}'),),
            ("tests/integration/test_run_workflow.py", "-k", "demo_fallback"),
            "demo mode leaves the workflow's 4 corrector steps (34 model calls a window, not 19)",
        ),
        "outpaint_feather_unchecked": Mutant(
            "repaint_extend/outpaint/settings.py",
            (('check_int("feather (px, at most the overlap)", self.feather, 0, self.overlap)', "pass"),),
            ("tests/integration/test_nodes_outpaint_modes.py", "-k", "feather"),
            "Outpaint (Tiled) takes a feather wider than the overlap",
        ),
        "runner_ignores_max_people": Mutant(
            "runner/prompts.py",
            (('node["inputs"]["max_people"] = options.max_people', "pass"),),
            ("tests/integration/test_runner_control.py", "-k", "max_people"),
            "--max-people never reaches Pose Detect",
        ),
        "interrupted_photo_recorded_as_failed": Mutant(
            "runner/batch.py",
            (
                (
                    '            batch.finish(job, "interrupted")\n            raise',
                    '            batch.finish(job, "failed")\n            raise',
                ),
            ),
            ("tests/integration/test_runner_control.py", "-k", "signal and 2"),
            "a photo stopped by Ctrl-C is recorded as failed",
        ),
        "server_outputs_left_behind": Mutant(
            "runner/batch.py",
            (("            if not self.args.keep_on_server:", "            if False:"),),
            ("tests/integration/test_batch.py", "-k", "unreachable"),
            "the runner leaves its uploads and outputs on the server",
        ),
    }
)


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
