"""Run a shipped workflow headlessly through ComfyUI's real executor, on one photo or a batch.

    .venv/bin/python scripts/run_workflow.py WORKFLOW [--image FILE|FOLDER|GLOB ...] [--out DIR]
        [--checkpoint NAME_OR_PATH] [--controlnet NAME_OR_PATH] [--seed N] [--steps N]
        [--server URL ...] [--per-server N] [--force]

WORKFLOW is a name from workflows/ (extend_legs, repaint_inpaint, repaint_pixel_demo) or a path to a
workflow file: a UI workflow (what ComfyUI saves) or an API prompt (``{"1": {"class_type": ...}}``).
The image defaults to scikit-image's camera.png (CC0: a man cut off at the thighs). Models are found in
ComfyUI's model folders (checkpoints/, controlnet/) or at the paths given. When no Stable Diffusion
checkpoint is available, a workflow that needs one still runs from start to end on the pack's embedded
pixel-space demo model, without ControlNet; it says so here and in report.json.

The photo is decoded once, as ComfyUI's LoadImage decodes it (EXIF orientation applied, 16-bit scaled
to 8-bit; ``harness/intake.py``), and never cropped. Bad photos and workflow files are refused with a
one-line error before ComfyUI starts, and so is a photo in which the pose detector finds nobody.

Writes to --out (one photo) or to a subfolder per photo (several; see ``scripts/batch_runner.py`` for
summary.json, resume, seeds and ``--server``): the images the workflow saves (for extend_legs: the
extended image, the pose overlay and the mask) and report.json (output_image, input_size, padding,
output_size, tiles, nfe, seconds, known_max_abs_diff, models, seed, ...). A photo whose report.json
matches the same workflow and settings is skipped (``--force`` redoes it). Each photo's seed is
``--seed`` (else the workflow's) plus the CRC-32 of its file name (:func:`photo_seed`).

The steps are functions that the batch runner calls: :func:`load_workflow`, :func:`read_photo`,
:func:`check_people`, :func:`boot`, :func:`build_prompt` (the same for in-process and server runs),
:func:`photo_prompt`, :func:`run_one`, :func:`make_report`.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from .workflow import RunError, load_workflow


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workflow")
    parser.add_argument(
        "--image",
        nargs="+",
        default=None,
        help="photos: files, folders, globs (default: scikit-image camera.png)",
    )
    parser.add_argument("--out", type=Path, default=Path("outputs"))
    parser.add_argument("--checkpoint", default=None, help="name in models/checkpoints, or a path")
    parser.add_argument("--controlnet", default=None, help="name in models/controlnet, or a path")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="each photo: SEED (default: the workflow's) + CRC-32 of its file name",
    )
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument(
        "--server", action="append", default=None, help="a running ComfyUI's URL (repeatable)"
    )
    parser.add_argument("--per-server", type=int, default=1, help="prompts in flight per server")
    parser.add_argument("--force", action="store_true", help="redo photos that have a matching report")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Check the workflow and the photos (bad ones fail before ComfyUI starts), then run them in this
    process (a temporary ComfyUI folder, removed however the run ends, Ctrl-C and SIGTERM included) or on
    ``--server``s (``batch_runner.run_batch``). Returns the exit status."""
    args = parse_args(argv)
    if __name__ == "__main__":  # `kill` cleans up as Ctrl-C does
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    from . import batch as batch_runner

    try:
        workflow = load_workflow(args.workflow)
        if args.image is None:
            import skimage

            args.image = [str(Path(skimage.data.__file__).parent / "camera.png")]
        photos = batch_runner.expand_inputs(args.image)
        return batch_runner.run_batch(workflow, photos, args)
    except (RunError, ValueError) as error:  # intake.PhotoError is a ValueError
        raise SystemExit(f"error: {error}") from None
    except KeyboardInterrupt:
        print("interrupted: nothing was left in the temporary folder", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
