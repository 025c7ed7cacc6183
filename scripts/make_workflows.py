"""Write the shipped UI workflows (workflows/*.json) from the graph builders in harness/graphs.py.

    .venv/bin/python scripts/make_workflows.py

Each file loads in ComfyUI by drag and drop and is listed among the pack's templates (ComfyUI serves a
pack's ``workflows/`` folder at /workflow_templates). Run this after changing a builder; the tests check
that every file loads, validates and runs.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LANGEVIN_STEPS = 42
"""Power Scheduler steps of the workflows that sampled with RePaint (50 steps, jump_length 10,
jump_n_sample 5: 210 model calls) before issue 15: 42 + 4 * 41 = 206 with 4 corrector steps, the same
budget. The pixel demo's RePaint (50, 5, 5) made 230: 46 steps, 226 (bench_conditional's 230 budget)."""

WORKFLOWS = {
    "extend_legs": (
        "Extend legs: pose -> pad -> ControlNet + tiled outpainting (Langevin Inpaint Sampler, Power "
        "Scheduler) -> exact composite",
        lambda graphs: graphs.extend_legs(sampler="langevin", steps=LANGEVIN_STEPS),
    ),
    "extend_legs_sdxl": (
        "Extend legs with SDXL: 1024 px tiles, an SDXL OpenPose ControlNet",
        lambda graphs: graphs.extend_legs(
            ckpt_name=graphs.SDXL_CHECKPOINT,
            controlnet_name=graphs.SDXL_OPENPOSE,
            tile=1024,
            overlap=128,
            sampler="langevin",
            steps=LANGEVIN_STEPS,
        ),
    ),
    "repaint_inpaint": (
        "Inpainting with a mask preset (SD1.5 or any checkpoint): Langevin Inpaint Sampler, Power Scheduler",
        lambda graphs: graphs.repaint_inpaint(
            ckpt_name=graphs.DEFAULT_CHECKPOINT,
            image="example.png",
            width=512,
            height=512,
            preset="thick",
            steps=LANGEVIN_STEPS,
            cfg=7.0,
            prompt="a photo",
            save_prefix="repaint_inpaint",
            sampler="langevin",
        ),
    ),
    "ldm_inpaint_big": (
        "latent-diffusion inpainting (CompVis inpainting_big last.ckpt): image + mask -> DDIM 50 steps",
        lambda graphs: graphs.ldm_inpaint(),
    ),
    "ldm_inpaint_big_repaint": (
        "latent-diffusion inpainting with the pack's sampler (Langevin Inpaint Sampler, Power Scheduler)",
        lambda graphs: graphs.ldm_inpaint(
            sampler="langevin", steps=LANGEVIN_STEPS, save_prefix="ldm_inpaint_repaint"
        ),
    ),
    "repaint_pixel_demo": (
        "Inpainting on the pack's embedded pixel-space demo model (Langevin Inpaint Sampler)",
        lambda graphs: graphs.repaint_pixel_demo(sampler="langevin", steps=46),
    ),
}


def main() -> int:
    from runner import graphs, workflow_format
    from runner import host as comfy_host

    comfy_host.boot(tempfile.mkdtemp(prefix="make-workflows-"))
    out_dir = ROOT / "workflows"
    out_dir.mkdir(exist_ok=True)
    for name, (title, build) in WORKFLOWS.items():
        prompt, _ = build(graphs)
        workflow = workflow_format.api_to_ui(prompt, title=title)
        (out_dir / f"{name}.json").write_text(json.dumps(workflow, indent=1) + "\n")
        print(f"wrote workflows/{name}.json ({len(workflow['nodes'])} nodes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
