"""Benchmark: seams of Outpaint (Tiled), sequential vs joint vs coarse-to-fine (issue 10).

    .venv/bin/python bench/bench_seams.py [--modes sequential,joint,coarse] [--jobs main,wide]
        [--out bench/results/seams.json] [--pictures DIR] [--steps 4 --jump-length 2 --jump-n-sample 1]

Jobs (the embedded 64x64 photos demo model, 64-px tiles, 16-px overlap, the main job's demo sampling:
since issue 15 the Langevin Inpaint Sampler, 2 corrector steps, on Power Scheduler (RePaint) 7 steps = 19
model calls a window (the coarse refinement: 13); ``--sampler repaint`` / an older ``--workflow``: RePaint
12 steps, jump_length 4, jump_n_sample 2, cfg 1 = 20):

- ``main``: the main command's job, ``workflows/extend_legs.json`` rewritten for the demo model exactly as
  ``scripts/run_workflow.py`` does (camera.png 512x512 -> pose -> legs -> pad -> Outpaint (Tiled)).
- ``wide``: a wide photo, scikit-image's coffee.png scaled to 1024 px wide, its top 384 rows kept and
  128 rows outpainted below.

Measures, on the final composited uint8 image:

- seam ratio: mean |ΔY| between horizontal/vertical neighbours that straddle a tile boundary ÷ mean |ΔY|
  between neighbours inside tiles, over generated pixels (Y = Rec. 601 luma), at pixel scale and on
  8-px block means. Boundaries: the edges of the sequential plan's tiles (the same grid for every mode:
  joint windows are that grid). Placebo: the same with the boundaries shifted by 24 px (no real seam
  there): the "no-seam" level of the image itself. 1.0 = no seam.
- known-edge ratio: mean |ΔY| across the first generated row (against the last known row above it) ÷
  mean |ΔY| between vertical neighbours in the 8 rows on either side (the local texture); it measures
  harmonisation with the photo, not tiling.
- NFE (model calls on a tile / window, the node's ``nfe`` output), seconds, known pixels max |Δ|.

Goal (issue 10): seam ratio <= 1.1 at both scales, at <= 1.1x sequential NFE, known pixels exact.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

DEMO = "[embedded] photos 64x64"
TILE, OVERLAP, PLACEBO_SHIFT = 64, 16, 24


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of uint8 RGB ``[H, W, 3]`` -> float ``[H, W]`` (0-255)."""
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _edges(plan, shift=0):
    """Sets of boundary columns and rows (px): a boundary at b lies between pixels b - 1 and b."""
    H, W = plan[0].canvas
    xs = {e + shift for t in plan for e in (t.x, t.x + t.w)}
    ys = {e + shift for t in plan for e in (t.y, t.y + t.h)}
    if shift:
        xs -= {e for t in plan for e in (t.x, t.x + t.w)}
        ys -= {e for t in plan for e in (t.y, t.y + t.h)}
    return {x for x in xs if 0 < x < W}, {y for y in ys if 0 < y < H}


def seam_ratio(y: np.ndarray, gen: np.ndarray, plan, shift=0, block=1) -> float:
    """Mean |ΔY| across the plan's tile boundaries ÷ mean |ΔY| elsewhere, over generated pixels;
    ``block`` > 1 on block means (boundaries at multiples of ``block``)."""
    cols, rows = _edges(plan, shift)
    if block > 1:
        H, W = y.shape
        y = y.reshape(H // block, block, W // block, block).mean(axis=(1, 3))
        gen = gen.reshape(H // block, block, W // block, block).all(axis=(1, 3))
        cols = {c // block for c in cols if c % block == 0}
        rows = {r // block for r in rows if r % block == 0}
    across, inside = [], []
    dx = np.abs(np.diff(y, axis=1))  # dx[:, b - 1] is between columns b - 1 and b
    both_x = gen[:, 1:] & gen[:, :-1]
    is_col = np.zeros(dx.shape[1], bool)
    is_col[[c - 1 for c in cols]] = True
    across.append(dx[:, is_col][both_x[:, is_col]])
    inside.append(dx[:, ~is_col][both_x[:, ~is_col]])
    dy = np.abs(np.diff(y, axis=0))
    both_y = gen[1:] & gen[:-1]
    is_row = np.zeros(dy.shape[0], bool)
    is_row[[r - 1 for r in rows]] = True
    across.append(dy[is_row][both_y[is_row]])
    inside.append(dy[~is_row][both_y[~is_row]])
    return float(np.concatenate(across).mean() / np.concatenate(inside).mean())


def known_edge_ratio(y: np.ndarray, mask: np.ndarray, rows: int = 8) -> float:
    """|ΔY| across the top of the generated band ÷ local vertical |ΔY| (``rows`` either side)."""
    cols = np.nonzero(mask.any(axis=0))[0]
    first = np.array([np.argmax(mask[:, c] > 0) for c in cols])
    keep = (
        (first >= rows)
        & (first + rows < mask.shape[0])
        & (mask[np.minimum(first, mask.shape[0] - 1), cols] > 0)
    )
    cols, first = cols[keep], first[keep]
    edge = np.abs(y[first, cols] - y[first - 1, cols]).mean()
    texture = [
        np.abs(y[first + k + 1, cols] - y[first + k, cols]).mean() for k in range(-rows, rows) if k != -1
    ]
    return float(edge / np.mean(texture))


MAIN_WORKFLOW = ROOT / "workflows" / "extend_legs.json"


def main_job_prompt(mode: str, workflow_path: Path = MAIN_WORKFLOW):
    from runner import demo, graphs, workflow_format

    workflow = json.loads(Path(workflow_path).read_text())
    prompt = demo.use_demo_model(workflow_format.ui_to_api(workflow), DEMO, TILE)
    for node in prompt.values():
        if node["class_type"] == "LoadImage":
            node["inputs"]["image"] = "camera.png"
        if node["class_type"] == "OutpaintTiled":
            node["inputs"]["mode"] = mode
    del graphs
    return prompt


def wide_job_prompt(mode: str, sampler: str = "langevin"):
    """The wide job with the demo's sampling: ``langevin`` (the shipped workflows' Langevin Inpaint
    Sampler on Power Scheduler (RePaint), run_workflow's demo settings: 19 model calls a window) or
    ``repaint`` (RePaint 12, 4, 2: 20)."""
    from runner import demo, graphs

    g = graphs._builder()
    image = g.node("LoadImage", image="wide.png")
    pad = g.node("ImagePadForOutpaint", image=image.out(0), left=0, top=0, right=0, bottom=128, feathering=0)
    model = g.node("LoadADMPixelModel", ckpt_name=DEMO, num_head_channels=64, num_heads=4)
    extra = {}
    if sampler == "langevin":
        node, sigmas = graphs.langevin_sampling(
            g,
            model.out(0),
            steps=demo.DEMO_SCHEDULE_STEPS["RePaintPowerScheduler"],
            corrector_steps=demo.DEMO_SAMPLING["corrector_steps"],
        )
        extra["sigmas"] = sigmas.out(0)
    else:
        node = g.node("RePaintSampler", jump_length=4, jump_n_sample=2, eta=1.0, known_noise="fresh")
    tiled = g.node(
        "OutpaintTiled", model=model.out(0), vae=model.out(1), positive=model.out(2), negative=model.out(2),
        image=pad.out(0), mask=pad.out(1), seed=0, steps=12, cfg=1.0, scheduler="normal",
        tile_width=TILE, tile_height=TILE, overlap=OVERLAP, feather=8, sampler=node.out(0), mode=mode,
        **extra,
    )  # fmt: skip
    final = g.node(
        "OutpaintComposite", original=pad.out(0), generated=tiled.out(0), mask=pad.out(1), color_match_band=0
    )
    g.node("SaveImage", images=final.out(0), filename_prefix="wide")
    return g.finalize()


def _nodes_of(prompt, class_type):
    return next(k for k, n in prompt.items() if n["class_type"] == class_type)


def _sampler_of(prompt: dict) -> str:
    kinds = {n["class_type"] for n in prompt.values()}
    return "langevin" if "LangevinInpaintSampler" in kinds else "repaint"


def _override(prompt: dict, sampling: dict) -> dict:
    """Set RePaint's steps / jump_length / jump_n_sample on every node that has them."""
    for node in prompt.values():
        for key, value in sampling.items():
            if value is not None and key in node["inputs"] and not isinstance(node["inputs"][key], list):
                node["inputs"][key] = value
    return prompt


def run_one(
    job: str, mode: str, pictures: Path | None, sampling: dict, workflow=MAIN_WORKFLOW, sampler="langevin"
) -> dict:
    from repaint_extend.outpaint import plan_tiles
    from runner import host as comfy_host

    job_prompt = main_job_prompt(mode, workflow) if job == "main" else wide_job_prompt(mode, sampler)
    prompt = _override(job_prompt, sampling)
    pad_id = _nodes_of(prompt, "PosePadImageMaskPose" if job == "main" else "ImagePadForOutpaint")
    tiled_id, final_id = _nodes_of(prompt, "OutpaintTiled"), _nodes_of(prompt, "OutpaintComposite")
    started = time.perf_counter()
    result = comfy_host.run_graph(prompt)
    seconds = time.perf_counter() - started
    padded = result.output(pad_id, 0)[0].numpy()
    mask = result.output(pad_id, 1)[0].numpy()
    final = result.output(final_id)[0].numpy()
    u8 = np.round(np.clip(final, 0, 1) * 255).astype(np.uint8)
    known = mask == 0
    known_diff = int(np.abs(u8[known].astype(int) - np.round(padded[known] * 255).astype(int)).max())
    plan = plan_tiles(mask.shape, mask, tile=TILE, overlap=OVERLAP)
    y, gen = luma(u8), mask > 0
    row = {
        "job": job,
        "mode": mode,
        "sampler": _sampler_of(prompt),
        "size": f"{mask.shape[1]}x{mask.shape[0]}",
        "tiles": int(result.output(tiled_id, 1)),
        "nfe": int(result.output(tiled_id, 2)),
        "seconds": round(seconds, 1),
        "known_max_abs_diff": known_diff,
        "seam_px": round(seam_ratio(y, gen, plan), 3),
        "seam_8px": round(seam_ratio(y, gen, plan, block=8), 3),
        "placebo_px": round(seam_ratio(y, gen, plan, shift=PLACEBO_SHIFT), 3),
        "placebo_8px": round(seam_ratio(y, gen, plan, shift=PLACEBO_SHIFT, block=8), 3),
        "known_edge": round(known_edge_ratio(y, mask), 3),
    }
    if pictures is not None:
        from PIL import Image

        pictures.mkdir(parents=True, exist_ok=True)
        Image.fromarray(u8).save(pictures / f"{job}_{mode}_{row['nfe']}.png", optimize=True)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modes", default="sequential,joint,coarse")
    parser.add_argument("--jobs", default="main,wide")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "seams.json")
    parser.add_argument("--pictures", type=Path, default=None, help="save each final image here")
    parser.add_argument(
        "--workflow", type=Path, default=MAIN_WORKFLOW, help="the main job's workflow (e.g. an older one)"
    )
    parser.add_argument("--sampler", choices=("langevin", "repaint"), default="langevin", help="wide job's")
    parser.add_argument("--steps", type=int, default=None, help="override the demo's 12 RePaint steps")
    parser.add_argument("--jump-length", type=int, default=None, help="override the demo's 4")
    parser.add_argument("--jump-n-sample", type=int, default=None, help="override the demo's 2")
    args = parser.parse_args(argv)

    import skimage
    from PIL import Image

    from runner import host as comfy_host

    work = Path(tempfile.mkdtemp(prefix="bench-seams-"))
    comfy_host.boot(work)
    camera = np.asarray(Image.open(Path(skimage.data.__file__).parent / "camera.png").convert("RGB"))
    Image.fromarray(camera).save(work / "input" / "camera.png")
    coffee = Image.fromarray(skimage.data.coffee())
    wide = coffee.resize((1024, round(coffee.height * 1024 / coffee.width)), Image.LANCZOS)
    wide.crop((0, 0, 1024, 384)).save(work / "input" / "wide.png")

    rows = []
    for job in args.jobs.split(","):
        for mode in args.modes.split(","):
            sampling = {
                "steps": args.steps,
                "jump_length": args.jump_length,
                "jump_n_sample": args.jump_n_sample,
            }
            row = run_one(job, mode, args.pictures, sampling, args.workflow, args.sampler)
            rows.append(row)
            print(json.dumps(row), flush=True)
    keys = list(rows[0])
    print("\n| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
