"""The main job, headless: a RePaint inpainting graph on a real photo through ComfyUI's real executor.

    .venv/bin/python scripts/main.py [--image PATH] [--out DIR] [--preset half] [--steps 20]

By default the photo is scikit-image's ``coffee.png`` (CC0) and the left half is regenerated. The model
is a RANDOMLY INITIALISED STAND-IN (tiny SD1.5-shaped UNet, CLIP and VAE): it shows the graph, the
sampler and the exact known pixels working end to end, not a meaningful picture. Outputs: the
inpainted image, the mask, and ``report.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

HARNESS = Path(__file__).resolve().parent.parent / "harness"
sys.path.insert(0, str(HARNESS))  # harness/ has no `nodes` folder; the repository root stays off sys.path

STAND_IN = "randomly initialised stand-in (tiny SD1.5-shaped UNet, CLIP and VAE; no trained weights)"


def _default_image() -> Path:
    import skimage

    return Path(skimage.data.__file__).parent / "coffee.png"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", type=Path, default=None, help="photo to inpaint (default: scikit-image coffee.png)")
    parser.add_argument("--out", type=Path, default=Path("outputs/main"), help="output folder")
    parser.add_argument("--preset", default="half", help="RePaint mask preset")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--jump-length", type=int, default=5)
    parser.add_argument("--jump-n-sample", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    image_path = (args.image or _default_image()).resolve()
    if not image_path.is_file():
        parser.error(f"--image {image_path} does not exist")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    import comfy_host
    import graphs

    work = Path(tempfile.mkdtemp(prefix="repaint-extend-"))
    comfy_host.boot(work, output_dir=out)
    original = np.asarray(Image.open(image_path).convert("RGB"))
    height, width = (d - d % 8 for d in original.shape[:2])
    original = original[:height, :width]  # the VAE works on multiples of 8
    Image.fromarray(original).save(work / "input" / "photo.png")

    prompt, ids = graphs.repaint_inpaint(
        kind="eps", image="photo.png", width=width, height=height, preset=args.preset, seed=args.seed,
        steps=args.steps, jump_length=args.jump_length, jump_n_sample=args.jump_n_sample, cfg=1.0,
        save_prefix="repaint",
    )
    started = time.perf_counter()
    result = comfy_host.run_graph(prompt)
    seconds = time.perf_counter() - started

    saved = result.ui[ids["output"]]["images"][0]
    output_image = out / saved.get("subfolder", "") / saved["filename"]
    mask = result.output(ids["mask"])[0].numpy()
    Image.fromarray((mask * 255).astype(np.uint8)).save(out / "mask.png")
    produced = np.asarray(Image.open(output_image).convert("RGB"))
    known = mask < 0.5
    nfe = max((total for _, total, _ in result.progress), default=0)
    report = {
        "output_image": str(output_image),
        "mask": str(out / "mask.png"),
        "input_image": str(image_path),
        "input_size": [width, height],
        "output_size": [produced.shape[1], produced.shape[0]],
        "preset": args.preset,
        "steps": args.steps,
        "jump_length": args.jump_length,
        "jump_n_sample": args.jump_n_sample,
        "nfe": nfe,
        "seconds": round(seconds, 2),
        "known_max_abs_diff": int(np.abs(produced[known].astype(int) - original[known].astype(int)).max()),
        "models": STAND_IN,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(f"NOTE: the model is a {STAND_IN}; the generated half is noise-like by design.")
    print(f"RePaint inpainting of {image_path.name} ({width}x{height}, mask '{args.preset}'): {nfe} model calls in {seconds:.1f} s")
    print(f"known pixels max |diff| = {report['known_max_abs_diff']}")
    print(f"outputs written to {out}: {output_image.name}, mask.png, report.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
