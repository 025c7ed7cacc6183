"""The shipped UI workflows (workflows/*.json): which builder of :mod:`runner.graphs` makes each, its title,
and the Note node some of them carry (the models they need, where they go, the demo to try first).

scripts/make_workflows.py writes them; tests check that the files are what :func:`build` gives.
"""

from __future__ import annotations

import json

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
    "extend_legs_demo": (
        "Extend legs on the embedded demo model: nothing to download, no ControlNet (try this first)",
        lambda graphs: graphs.extend_legs_demo(**demo_settings()),
    ),
}

DEMO_WORKFLOW = "extend_legs_demo"
SD_NOTE = """Models this workflow needs (nothing is downloaded for you):

- Load Checkpoint: {checkpoint}
  -> ComfyUI/models/checkpoints/
- Load ControlNet Model: {controlnet} (an OpenPose ControlNet{family})
  -> ComfyUI/models/controlnet/

Without them ComfyUI outlines both loaders in red. To see the whole job run first with nothing to
download, open the template "{demo}" (Templates in the left side bar > Extensions > this pack, or
drop workflows/{demo}.json here): the same pose, pad, Pose Editor and tiled outpainting on the pack's
embedded 64 x 64 demo model (blotchy legs; the pose, padding and exact photo pixels are real).

Pose Editor: run the workflow once to load the pose, then drag joints (Shift: one point only)."""
NOTES = {
    "extend_legs": SD_NOTE.format(
        checkpoint="v1-5-pruned-emaonly.safetensors (any SD1.5 checkpoint)",
        controlnet="control_v11p_sd15_openpose.pth",
        family=" for SD1.5",
        demo=DEMO_WORKFLOW,
    ),
    "extend_legs_sdxl": SD_NOTE.format(
        checkpoint="sd_xl_base_1.0.safetensors (any SDXL checkpoint)",
        controlnet="thibaud_xl_openpose.safetensors",
        family=" for SDXL",
        demo=DEMO_WORKFLOW,
    ),
    DEMO_WORKFLOW: """Nothing to download: this runs on the pack's embedded demo model (a 64 x 64 pixel-space
DDPM) without ControlNet.

1. Load Image: upload a photo of a person cut off at the knees or thighs.
2. Run. Pose Detect finds the person, the legs are completed below the frame, the canvas is padded,
   the Pose Editor shows the pose (drag joints; Shift: one point), Outpaint (Tiled) fills the new
   area and Outpaint Composite puts every photo pixel back exactly.

The photo is scaled to 512 px on its longer side first (ImageScaleToMaxDimension: the demo model's
working size; larger is slower). The legs come out as blotchy texture in the photo's colours: for
real legs use the extend_legs template with an SD1.5 checkpoint and an OpenPose ControlNet.""",
}
"""A Note node added to these workflows, left of the graph: the models, their folders, the demo to try."""


def demo_settings() -> dict:
    """:func:`graphs.extend_legs_demo`'s settings, taken from the runner's demo mode (runner/demo.py:
    ``DEMO_MODELS``, ``_demo_settings``, ``DEMO_SCHEDULE_STEPS``, ``DEMO_MAX_SIDE``) so that the browser's
    demo workflow and ``run_workflow.py extend_legs`` without a checkpoint run the same graph."""
    from . import demo

    ckpt_name, tile = demo.DEMO_MODELS[0]
    tiled = {"steps": None, "cfg": None}
    demo._demo_settings("OutpaintTiled", tiled, tile)
    pad = {"multiple": None}
    demo._demo_settings("PosePadImageMaskPose", pad, tile)
    langevin = {"corrector_steps": None}
    demo._demo_settings("LangevinInpaintSampler", langevin, tile)
    return {
        "ckpt_name": ckpt_name,
        "tile": tile,
        "overlap": tiled["overlap"],
        "feather": tiled["feather"],
        "multiple": pad["multiple"],
        "steps": tiled["steps"],
        "cfg": tiled["cfg"],
        "levels": demo.DEMO_SCHEDULE_STEPS["RePaintPowerScheduler"],
        "power": demo.DEMO_POWER["RePaintPowerScheduler"],
        "corrector_steps": langevin["corrector_steps"],
        "max_side": demo.DEMO_MAX_SIDE,
    }


def build(name: str) -> dict:
    """The UI workflow ``workflows/<name>.json`` (ComfyUI booted): its builder's graph laid out, plus its
    Note (:data:`NOTES`) if it has one."""
    from . import graphs, workflow_format

    title, make = WORKFLOWS[name]
    prompt, _ = make(graphs)
    workflow = workflow_format.api_to_ui(prompt, title=title)
    if name in NOTES:
        workflow_format.add_note(workflow, NOTES[name])
    return workflow


def text(workflow: dict) -> str:
    """A workflow as the file is written."""
    return json.dumps(workflow, indent=1) + "\n"
