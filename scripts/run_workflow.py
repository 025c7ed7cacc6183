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
import hashlib
import io
import json
import sys
import time
import zlib
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


def load_workflow(name: str) -> tuple[Path, dict]:
    """The workflow file ``name`` (a path, or a name from workflows/) and its JSON.

    Raises:
        ValueError: no such workflow (the message lists the shipped ones), or not JSON.
    """
    path = Path(name)
    if not path.is_file():
        path = ROOT / "workflows" / f"{name}.json"
    if not path.is_file():
        names = ", ".join(p.stem for p in sorted((ROOT / "workflows").glob("*.json")))
        raise ValueError(f"workflow {name!r} not found: give a path or one of {names}")
    try:
        return path, json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not JSON: {error}") from error


def _options(input_spec, class_type: str, name: str) -> list[str]:
    """The choices of combo input ``name`` of ``class_type`` (legacy ``[[...], {}]`` or ``["COMBO", {"options"}]``)."""
    entry = input_spec(class_type)["required"][name]
    return list(entry[0] if isinstance(entry[0], list) else entry[1]["options"])


def register_model_path(value: str | None, folder: str) -> str | None:
    """In-process only: a model given as a file path is registered as an extra ComfyUI ``folder``; its name."""
    if value is None or not Path(value).is_file():
        return value
    import folder_paths

    path = Path(value).resolve()
    folder_paths.add_model_folder_path(folder, str(path.parent))
    return path.name


def build_prompt(prompt: dict, input_spec, *, checkpoint=None, controlnet=None, steps=None, where="ComfyUI"):
    """The API prompt to run for every photo (``photo_prompt`` then sets the photo and its seed): the
    models the workflow names (or ``checkpoint`` / ``controlnet``) checked against what the host offers,
    the embedded pixel-space demo model when no Stable Diffusion checkpoint is there, ``steps``.

    One function for both paths: in-process ``input_spec`` reads this process's nodes, with servers it reads
    ``GET /object_info``, so both send the same prompt.

    Args:
        prompt: the workflow as an API prompt (not modified).
        input_spec: ``class_type -> {"required": {...}, "optional": {...}}`` (a node's INPUT_TYPES).
        checkpoint, controlnet: model names (None: the workflow's own).
        steps: overrides every ``steps`` input.
        where: the host's name in error messages.

    Returns:
        ``(prompt, models, note)``: models used (a dict, or a string for the demo model); ``note`` says
        what was substituted, or None.

    Raises:
        ValueError: a named model is not on the host.
    """
    prompt = json.loads(json.dumps(prompt))
    import graphs

    wanted = _widget(prompt, "CheckpointLoaderSimple", "ckpt_name", graphs.DEFAULT_CHECKPOINT)
    has = {n["class_type"] for n in prompt.values()}
    models: object = {}
    note = None
    if "CheckpointLoaderSimple" in has:
        offered = _options(input_spec, "CheckpointLoaderSimple", "ckpt_name")
        if checkpoint is not None and checkpoint not in offered:
            raise ValueError(
                f"checkpoint {checkpoint!r} not found on {where}: give a path (in-process), or put it in "
                "ComfyUI/models/checkpoints/"
            )
        name = checkpoint or (wanted if wanted in offered else None)
        if name is None:
            demos = _options(input_spec, "LoadADMPixelModel", "ckpt_name")
            demo, tile = next((name, size) for name, size in DEMO_MODELS if name in demos)
            prompt = use_demo_model(prompt, demo, tile)
            models = f"demo: {demo} (no Stable Diffusion checkpoint found; ControlNet skipped)"
            note = (
                f"NOTE: no Stable Diffusion checkpoint found on {where} ({wanted} or --checkpoint): running "
                f"on the embedded pixel-space demo model {demo!r}, tiles of {tile} px, without ControlNet."
            )
        else:
            models["checkpoint"] = name
    for node in prompt.values():
        inputs = node["inputs"]
        if node["class_type"] == "CheckpointLoaderSimple":
            inputs["ckpt_name"] = models["checkpoint"]
        if node["class_type"] == "ControlNetLoader":
            name = controlnet or inputs["control_net_name"]
            if name not in _options(input_spec, "ControlNetLoader", "control_net_name"):
                raise ValueError(
                    f"ControlNet {name!r} not found on {where}: put it in ComfyUI/models/controlnet/ or pass "
                    "--controlnet PATH (in-process)"
                )
            inputs["control_net_name"] = models["controlnet"] = name
        if steps is not None and "steps" in inputs:
            inputs["steps"] = steps
    return prompt, models, note


def photo_seed(seed: int, photo_name: str) -> int:
    """A photo's seed: ``seed`` plus the CRC-32 of its file name (e.g. ``IMG_0001.jpg``), modulo 2^64, so
    that a photo keeps its seed whatever else is in the batch."""
    return (int(seed) + zlib.crc32(photo_name.encode())) % 2**64


def photo_prompt(prompt: dict, image_name: str, photo_name: str, seed: int | None = None) -> dict:
    """``prompt`` for one photo: LoadImage reads ``image_name``; every ``seed`` input becomes
    ``photo_seed(seed or the input's own value, photo_name)``."""
    prompt = json.loads(json.dumps(prompt))
    for node in prompt.values():
        inputs = node["inputs"]
        if node["class_type"] == "LoadImage":
            inputs["image"] = image_name
        if "seed" in inputs and not isinstance(inputs["seed"], list):
            inputs["seed"] = photo_seed(inputs["seed"] if seed is None else seed, photo_name)
    return prompt


def read_photo(path: Path) -> np.ndarray:
    """The photo as uint8 [H, W, 3], cropped to a multiple of 8 px (latents).

    Raises:
        ValueError: not a readable image (one line naming the file).
    """
    try:
        with Image.open(path) as image:
            photo = np.asarray(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"{path} is not a readable image: {error}") from None
    photo = photo[: photo.shape[0] - photo.shape[0] % 8, : photo.shape[1] - photo.shape[1] % 8]
    if photo.size == 0:
        raise ValueError(f"{path} is too small: {photo.shape[1]}x{photo.shape[0]} px after cropping to 8 px")
    return photo


def check_people(photo: np.ndarray, path: Path, class_types: set[str]) -> None:
    """For a workflow that detects a pose, check with the pack's MediaPipe detector (no ComfyUI needed)
    that the photo shows a person.

    Raises:
        ValueError: "No person detected in PATH".
    """
    if "PoseDetectMediaPipe" not in class_types:
        return
    import pack

    pack.load()
    from repaint_extend.pose.detect import detect

    if not detect(photo, num_poses=1)["people"]:
        raise ValueError(f"No person detected in {path}")


def photo_png(photo: np.ndarray) -> tuple[str, bytes]:
    """The PNG the host reads (LoadImage) and its name, from the content (the same on every host)."""
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="PNG")
    data = buffer.getvalue()
    return f"repaint_extend_{hashlib.sha256(data).hexdigest()[:16]}.png", data


def local_input_spec(class_type: str) -> dict:
    """``build_prompt``'s ``input_spec`` for this process's ComfyUI (booted)."""
    import nodes

    return nodes.NODE_CLASS_MAPPINGS[class_type].INPUT_TYPES()


def run_one(prompt: dict, photo: np.ndarray, image_path: Path, out: Path, models) -> dict:
    """Run one photo's prompt in this process's ComfyUI (booted); its images and report.json go to ``out``.

    Raises:
        comfy_host.GraphError: the graph failed (its message's first line says why).
    """
    import comfy_host
    import folder_paths

    out.mkdir(parents=True, exist_ok=True)
    folder_paths.set_output_directory(str(out))
    started = time.perf_counter()
    result = comfy_host.run_graph(prompt)
    seconds = time.perf_counter() - started
    report = _report(prompt, result, out, photo, image_path, seconds, models)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv=None) -> int:
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
    parser.add_argument("--seed", type=int, default=None, help="each photo: SEED + CRC-32 of its file name")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument(
        "--server", action="append", default=None, help="a running ComfyUI's URL (repeatable)"
    )
    parser.add_argument("--per-server", type=int, default=1, help="prompts in flight per server")
    parser.add_argument("--force", action="store_true", help="redo photos that have a matching report")
    args = parser.parse_args(argv)

    import batch_runner

    try:
        path, workflow = load_workflow(args.workflow)
    except ValueError as error:
        parser.error(str(error))
    if args.image is None:
        import skimage

        args.image = [str(Path(skimage.data.__file__).parent / "camera.png")]
    try:
        photos = batch_runner.expand_inputs(args.image)
    except ValueError as error:
        parser.error(str(error))
    return batch_runner.run_batch(path, workflow, photos, args)


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
