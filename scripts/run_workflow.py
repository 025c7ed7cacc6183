"""Run a shipped workflow headlessly through ComfyUI's real executor: the way to batch photos.

    .venv/bin/python scripts/run_workflow.py WORKFLOW [--image PATH] [--out DIR]
        [--checkpoint NAME_OR_PATH] [--controlnet NAME_OR_PATH] [--seed N] [--steps N]

WORKFLOW is a name from workflows/ (extend_legs, repaint_inpaint, repaint_pixel_demo) or a path to a UI
workflow file. The image defaults to scikit-image's camera.png (CC0: a man cut off at the thighs).
Models are found in ComfyUI's model folders (checkpoints/, controlnet/) or at the paths given. When no
Stable Diffusion checkpoint is available, a workflow that needs one still runs from start to end on the
pack's embedded pixel-space demo model, without ControlNet; it says so here and in report.json.

Writes to --out: the images the workflow saves (for extend_legs: the extended image, the pose overlay
and the mask) and report.json (output_image, input_size, output_size, tiles, nfe, seconds,
known_max_abs_diff, models, ...).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(
    0, str(ROOT / "harness")
)  # harness/ has no `nodes` folder; the repository root stays off sys.path

DEMO_MODELS = (  # (ckpt_name in Load ADM Pixel Model, native size px), best first
    ("[embedded] photos 64x64", 64),
    ("[embedded] digits 16x16", 16),
)
DEMO_SAMPLING = {"steps": 12, "jump_length": 4, "jump_n_sample": 2, "cfg": 1.0}  # 20 model calls a tile
DEMO_MAX_SIDE = 512  # demo mode's working size: a 12-MP photo would otherwise take ~2,300 64-px tiles


def _resolve_model(value: str | None, folder: str, default: str | None) -> str | None:
    """A model's name in ComfyUI's ``folder``: a path is registered as an extra folder; None if absent."""
    import folder_paths

    if value is not None and Path(value).is_file():
        path = Path(value).resolve()
        folder_paths.add_model_folder_path(folder, str(path.parent))
        return path.name
    name = value or default
    if name is None:
        return None
    if folder_paths.get_full_path(folder, name) is not None:
        return name
    if value is not None:
        raise SystemExit(
            f"{folder[:-1] if folder.endswith('s') else folder} {value!r} not found: give a path, "
            f"or put it in one of {folder_paths.get_folder_paths(folder)}"
        )
    return None


def _widget(prompt: dict, class_type: str, name: str, default: str) -> str:
    """The value of input ``name`` of the first ``class_type`` node in ``prompt`` (``default`` if none)."""
    return next((n["inputs"][name] for n in prompt.values() if n["class_type"] == class_type), default)


def use_demo_model(prompt: dict, ckpt_name: str, tile: int) -> dict:
    """Rewrite an API graph that loads a Stable Diffusion checkpoint to run on a pixel-space demo model:
    CheckpointLoaderSimple becomes Load ADM Pixel Model (MODEL, identity VAE, empty CONDITIONING), text
    prompts become that empty conditioning, Outpaint (Tiled)'s per-tile prompts and ControlNets are dropped,
    tiles take the model's size."""
    prompt = json.loads(json.dumps(prompt))
    loaders = [k for k, n in prompt.items() if n["class_type"] == "CheckpointLoaderSimple"]
    encoders = {k for k, n in prompt.items() if n["class_type"] == "CLIPTextEncode"}
    controls = {k for k, n in prompt.items() if n["class_type"] == "ControlNetLoader"}
    for key in loaders:
        prompt[key] = {
            "class_type": "LoadADMPixelModel",
            "inputs": {"ckpt_name": ckpt_name, "num_head_channels": 64, "num_heads": 4},
        }
    for key in encoders | controls:
        del prompt[key]
    for node in prompt.values():
        inputs = node["inputs"]
        if node["class_type"] == "OutpaintTiled":  # no CLIP: per-tile prompts go with the text prompts
            for name in ("clip", "tile_prompt", "caption_model"):
                inputs.pop(name, None)
        for name, value in list(inputs.items()):
            if isinstance(value, list) and value[0] in encoders:
                inputs[name] = [loaders[0], 2]  # the pixel model's empty CONDITIONING
            elif isinstance(value, list) and value[0] in loaders:
                inputs[name] = [value[0], {0: 0, 2: 1}[value[1]]]  # MODEL stays 0; VAE: slot 2 -> 1
            elif isinstance(value, list) and value[0] in controls:
                del inputs[name]
        if node["class_type"] == "OutpaintTiled":
            for name in ("control_image", "control_strength", "control_start", "control_end"):
                inputs.pop(name, None)
            inputs.update(
                tile_width=tile, tile_height=tile, overlap=max(8, tile // 4), feather=max(0, tile // 8)
            )
        if node["class_type"] == "PosePadImageMaskPose":
            inputs["multiple"] = tile // 2
        for name, value in DEMO_SAMPLING.items():
            if name in inputs and not isinstance(inputs[name], list):
                inputs[name] = value
    return prompt


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workflow")
    parser.add_argument("--image", type=Path, default=None, help="default: scikit-image camera.png")
    parser.add_argument("--out", type=Path, default=Path("outputs"))
    parser.add_argument("--checkpoint", default=None, help="name in models/checkpoints, or a path")
    parser.add_argument("--controlnet", default=None, help="name in models/controlnet, or a path")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)

    import comfy_host
    import graphs
    import workflow_format

    path = Path(args.workflow)
    if not path.is_file():
        path = ROOT / "workflows" / f"{args.workflow}.json"
    if not path.is_file():
        names = ", ".join(p.stem for p in sorted((ROOT / "workflows").glob("*.json")))
        parser.error(f"workflow {args.workflow!r} not found: give a path or one of {names}")
    try:
        workflow = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        parser.error(f"{path} is not JSON: {error}")
    if args.image is None:
        import skimage

        args.image = Path(skimage.data.__file__).parent / "camera.png"
    image_path = args.image.resolve()
    if not image_path.is_file():
        parser.error(f"--image {image_path} does not exist")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    work = Path(tempfile.mkdtemp(prefix="run-workflow-"))
    comfy_host.boot(work, harness_nodes=False, output_dir=out)
    try:
        prompt = workflow_format.ui_to_api(workflow)
    except workflow_format.WorkflowError as error:
        parser.error(f"{path}: {error}")
    photo = np.asarray(Image.open(image_path).convert("RGB"))
    photo = photo[: photo.shape[0] - photo.shape[0] % 8, : photo.shape[1] - photo.shape[1] % 8]  # 8x latents
    Image.fromarray(photo).save(work / "input" / "photo.png")

    wanted = {  # the files the workflow itself names (its loaders' widgets)
        "checkpoints": _widget(prompt, "CheckpointLoaderSimple", "ckpt_name", graphs.DEFAULT_CHECKPOINT),
        "controlnet": _widget(prompt, "ControlNetLoader", "control_net_name", graphs.DEFAULT_OPENPOSE),
    }
    needs_checkpoint = any(n["class_type"] == "CheckpointLoaderSimple" for n in prompt.values())
    checkpoint = (
        _resolve_model(args.checkpoint, "checkpoints", wanted["checkpoints"]) if needs_checkpoint else None
    )
    models: object = {}
    if needs_checkpoint and checkpoint is None:
        import nodes

        options = nodes.NODE_CLASS_MAPPINGS["LoadADMPixelModel"].INPUT_TYPES()["required"]["ckpt_name"]
        names = options[0] if isinstance(options[0], list) else options[1]["options"]
        demo, tile = next((name, size) for name, size in DEMO_MODELS if name in names)
        prompt = use_demo_model(prompt, demo, tile)
        if max(photo.shape[:2]) > DEMO_MAX_SIDE:
            side = DEMO_MAX_SIDE / max(photo.shape[:2])
            size = (max(8, int(photo.shape[1] * side) // 8 * 8), max(8, int(photo.shape[0] * side) // 8 * 8))
            print(
                f"NOTE: demo mode works at most {DEMO_MAX_SIDE} px on a side: the photo "
                f"({photo.shape[1]}x{photo.shape[0]}) is scaled to {size[0]}x{size[1]} first."
            )
            photo = np.asarray(Image.fromarray(photo).resize(size, Image.LANCZOS))
            Image.fromarray(photo).save(work / "input" / "photo.png")
        models = f"demo: {demo} (no Stable Diffusion checkpoint found; ControlNet skipped)"
        print(
            f"NOTE: no Stable Diffusion checkpoint found ({wanted['checkpoints']} or --checkpoint): running on "
            f"the embedded pixel-space demo model {demo!r}, tiles of {tile} px, without ControlNet."
        )
    for node in prompt.values():
        inputs = node["inputs"]
        if node["class_type"] == "LoadImage":
            inputs["image"] = "photo.png"
        if node["class_type"] == "CheckpointLoaderSimple":
            inputs["ckpt_name"] = checkpoint
            models["checkpoint"] = checkpoint
        if node["class_type"] == "ControlNetLoader":
            name = _resolve_model(args.controlnet, "controlnet", wanted["controlnet"])
            if name is None:
                raise SystemExit(
                    f"ControlNet {args.controlnet or wanted['controlnet']!r} not found: put it in "
                    "ComfyUI/models/controlnet/ or pass --controlnet PATH"
                )
            inputs["control_net_name"] = models["controlnet"] = name
        for key, value in (("seed", args.seed), ("steps", args.steps)):
            if value is not None and key in inputs:
                inputs[key] = value

    started = time.perf_counter()
    try:
        result = comfy_host.run_graph(prompt)
    except comfy_host.GraphError as error:
        details = json.dumps(error.details, indent=1, default=str)[:2000]
        raise SystemExit(f"{path.name} failed: {error}\n{details}") from error
    seconds = time.perf_counter() - started
    report = _report(prompt, result, out, photo, image_path, seconds, models)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(
        f"{path.stem}: {report['input_size']} -> {report['output_size']} px, {report['tiles']} tiles, "
        f"{report['nfe']} model calls, {seconds:.1f} s; known pixels max |diff| = {report['known_max_abs_diff']}"
    )
    print(f"outputs in {out}: {', '.join(Path(p).name for p in report['saved'])}, report.json")
    return 0


def _known_reference(prompt, result):
    """The image whose known pixels the output must keep (8-bit values) and the mask (0 = known)."""
    for node in prompt.values():
        inputs = node["inputs"]
        if node["class_type"] == "OutpaintComposite":
            return _uint8(result.output(*inputs["original"])), result.output(*inputs["mask"])[0].numpy()
    reference = mask = None
    for node_id, node in prompt.items():
        if node["class_type"] == "VAEEncode":
            reference = _uint8(result.output(*node["inputs"]["pixels"]))
        elif node["class_type"] == "RePaintMask":
            mask = result.output(node_id)[0].numpy()
    return (reference, mask) if reference is not None and mask is not None else (None, None)


def _uint8(image) -> np.ndarray:
    """8-bit values the way SaveImage writes them (``clip(255 * x).astype(uint8)``: truncation)."""
    return np.clip(255.0 * image[0].cpu().numpy(), 0, 255).astype(np.uint8).astype(int)


def _report(prompt, result, out, photo, image_path, seconds, models) -> dict:
    saved = [
        out / image.get("subfolder", "") / image["filename"]
        for ui in result.ui.values()
        for image in ui.get("images", [])
    ]
    main_output = saved[0]
    tiles = nfe = 0
    for node_id, node in prompt.items():
        if node["class_type"] == "OutpaintTiled":
            tiles, nfe = result.output(node_id, 1), result.output(node_id, 2)
        elif node["class_type"] == "KSamplerRePaint":
            nfe = max((total for _, total, _ in result.progress), default=0)
    for node_id, node in prompt.items():
        if node["class_type"] == "SaveImage" and result.ui.get(node_id, {}).get("images"):
            image = result.ui[node_id]["images"][0]
            main_output = out / image.get("subfolder", "") / image["filename"]
            break
    produced = np.asarray(Image.open(main_output).convert("RGB")).astype(int)
    reference, mask = _known_reference(prompt, result)
    known = (mask == 0) if reference is not None and reference.shape[:2] == produced.shape[:2] else None
    diff = int(np.abs(produced - reference)[known].max()) if known is not None and known.any() else None
    return {
        "output_image": str(main_output),
        "saved": [str(p) for p in saved],
        "input_image": str(image_path),
        "input_size": [int(photo.shape[1]), int(photo.shape[0])],
        "output_size": [int(produced.shape[1]), int(produced.shape[0])],
        "tiles": int(tiles),
        "nfe": int(nfe),
        "seconds": round(seconds, 2),
        "known_max_abs_diff": diff,
        "models": models,
    }


if __name__ == "__main__":
    sys.exit(main())
