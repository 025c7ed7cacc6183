"""Run a shipped workflow headlessly through ComfyUI's real executor, on one photo or a batch.

WORKFLOW is the name of a shipped workflow (extend_legs, extend_legs_sdxl, repaint_inpaint,
repaint_pixel_demo, ldm_inpaint_big, ldm_inpaint_big_repaint) or the path of a workflow file: a UI
workflow as ComfyUI saves it, or an API prompt. The photo defaults to scikit-image's camera.png (a man cut
off at the thighs). Models come from ComfyUI's model folders or the paths given; without a Stable
Diffusion checkpoint the workflow runs on the pack's embedded demo model, without ControlNet, and says so.

Each photo is decoded as ComfyUI's LoadImage decodes it (EXIF orientation applied; 16-bit scaled to
8-bit as v/257) and never cropped. Bad photos, bad workflow files, bad options and photos in which the
pose detector finds nobody are refused with one line before ComfyUI starts.

One photo: its images and report.json go to --out. Several: a folder per photo, and summary.json /
summary.csv. A photo already done with the same workflow and settings is skipped (--force redoes it).
Each photo's seed is --seed (else the workflow's) plus the CRC-32 of its file name.
Ctrl-C or SIGTERM stops within seconds: the photo in progress is recorded as interrupted, and a later run
redoes it.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from repaint_extend.pose.detect import MAX_PEOPLE

from . import stop
from .workflow import RunError, load_workflow

EXIT_CODES = {
    0: "every photo done or skipped",
    1: "a photo failed (a bad file, no person found, a graph error)",
    2: "the command line is wrong (an unknown option, a value out of range)",
    3: "nothing could start: the workflow file, a model, or no server usable",
    130: "interrupted (Ctrl-C)",
    143: "terminated (SIGTERM)",
}
"""The exit status of each outcome, listed in ``--help``."""

SEED_RANGE = (0, 2**64 - 1)
"""Seeds ComfyUI's widgets accept; ``-1`` asks for a random one."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value != -1 and not SEED_RANGE[0] <= value <= SEED_RANGE[1]:
        raise argparse.ArgumentTypeError(f"must be -1 (random) or in [0, 2^64 - 1], got {value}")
    return value


def _max_people(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_PEOPLE:
        raise argparse.ArgumentTypeError(f"must be in [1, {MAX_PEOPLE}], got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    """The command line (``--help`` lists the options and :data:`EXIT_CODES`)."""
    codes = "\n".join(f"  {code:>3}  {what}" for code, what in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="run_workflow.py",
        description=__doc__,
        epilog=f"exit status:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("workflow", help="a shipped workflow's name, or a workflow file")
    parser.add_argument(
        "--image", nargs="+", default=None, help="photos: files, folders, globs (default: camera.png)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("outputs"),
        help="output folder (default: outputs); with several photos, a folder per photo inside it",
    )
    parser.add_argument("--checkpoint", default=None, help="a file in models/checkpoints, or a path")
    parser.add_argument("--controlnet", default=None, help="a file in models/controlnet, or a path")
    parser.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help="base seed of every photo (its file name's CRC-32 is added); -1 = random, printed and "
        "written to report.json (default: the workflow's)",
    )
    parser.add_argument(
        "--steps",
        type=_positive,
        default=None,
        help="sampling steps of every node that has them (default: the workflow's)",
    )
    parser.add_argument(
        "--max-people",
        type=_max_people,
        default=None,
        help=f"people posed per photo, 1-{MAX_PEOPLE}, in the workflow and in the check before it runs "
        "(default: the workflow's Pose Detect setting)",
    )
    parser.add_argument(
        "--server",
        action="append",
        default=None,
        help="a running ComfyUI with this pack, http://HOST:PORT (repeatable); unreachable ones are skipped",
    )
    parser.add_argument("--per-server", type=_positive, default=1, help="prompts in flight per server")
    parser.add_argument(
        "--keep-on-server",
        action="store_true",
        help="leave the uploaded photos and the outputs in the servers' folders (default: deleted)",
    )
    parser.add_argument("--force", action="store_true", help="redo photos that are already done")
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    """The options; a bad one ends the command (exit status 2) before anything starts."""
    args = parser().parse_args(argv)
    if args.seed == -1:
        args.seed = random.SystemRandom().randrange(2**64)
        print(f"seed: {args.seed} (random)")
    return args


def main(argv=None) -> int:
    """Check the options, the workflow and the photos (bad ones fail before ComfyUI starts), then run them
    in this process or on ``--server``s (:func:`runner.batch.run_batch`). Returns the exit status
    (:data:`EXIT_CODES`)."""
    args = parse_args(argv)
    from . import batch as batch_runner

    with stop.signals():
        try:
            workflow = load_workflow(args.workflow)
            if args.image is None:
                import skimage

                args.image = [str(Path(skimage.data.__file__).parent / "camera.png")]
            photos = batch_runner.expand_inputs(args.image)
            return batch_runner.run_batch(workflow, photos, args)
        except RunError as error:
            print(f"error: {error}", file=sys.stderr)
            return 3
        except ValueError as error:  # a photo that cannot be read (intake.PhotoError), a missing file
            raise SystemExit(f"error: {error}") from None
        except (KeyboardInterrupt, stop.Stopped) as interrupt:
            code = getattr(interrupt, "code", 130)
            print(f"{EXIT_CODES[code]}: the temporary folders are removed", file=sys.stderr)
            return code


if __name__ == "__main__":
    sys.exit(main())
