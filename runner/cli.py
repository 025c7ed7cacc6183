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
import dataclasses
import hashlib
import io
import json
import os
import signal
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(
    0, str(ROOT / "harness")
)  # harness/ has no `nodes` folder; the repository root stays off sys.path

import intake  # noqa: E402  (harness/intake.py: host-independent photo decode)

DEMO_MODELS = (  # (ckpt_name in Load ADM Pixel Model, native size px), best first
    ("[embedded] photos 64x64", 64),
    ("[embedded] digits 16x16", 16),
)
DEMO_SAMPLING = {"steps": 12, "jump_length": 4, "jump_n_sample": 2, "cfg": 1.0, "corrector_steps": 2}
"""Demo-mode sampling, set on every node with such a widget: about 20 model calls a tile or window. RePaint
(12 steps, jump_length 4, jump_n_sample 2): 20; Langevin Inpaint Sampler with 2 corrector steps on
:data:`DEMO_SCHEDULE_STEPS` levels: 19 (at 20 model calls 2 corrector steps beat 0, 1, 4 and 8, and
RePaint, on the exact-Gaussian benchmark: bench/bench_conditional.py --budgets 20)."""
DEMO_SCHEDULE_STEPS = {"RePaintPowerScheduler": 7}
"""Steps of the schedulers that set a sampler's levels, in demo mode (instead of ``steps`` above)."""
MAX_JSON_DEPTH = 64
"""Deepest nesting accepted in a workflow file (ComfyUI's own files nest about 6 levels)."""
TEMP_PREFIX = "run-workflow-"
DEMO_MAX_SIDE = 512
"""Demo mode's working size, px on the longer side: a 12-MP photo would otherwise take ~2,300 64-px tiles
of the embedded demo model. Larger photos are scaled down first (and the report says so)."""


class RunError(RuntimeError):
    """A run that cannot go on; the message is one line naming the input and the cause."""


@dataclass(frozen=True)
class Workflow:
    """A workflow file whose structure was checked: ``data`` is a UI workflow, or an API prompt when
    ``api``."""

    path: Path
    data: dict
    api: bool

    def class_types(self) -> set[str]:
        """The node types it runs (UI notes and muted or bypassed nodes left out)."""
        if self.api:
            return {node["class_type"] for node in self.data.values()}
        import workflow_format

        return {
            node["type"]
            for node in self.data["nodes"]
            if node["type"] not in workflow_format.UI_ONLY and node.get("mode", 0) not in (2, 4)
        }


@dataclass(frozen=True)
class Options:
    """What the command line may change: models (names in ComfyUI's folders or paths), seed, steps."""

    checkpoint: str | None = None
    controlnet: str | None = None
    seed: int | None = None
    steps: int | None = None


# --- before ComfyUI starts --------------------------------------------------------------------------


def find_workflow(name_or_path: str | os.PathLike) -> Path:
    """The file of a shipped workflow's name, or the path itself.

    Raises:
        RunError: neither exists (lists the shipped workflows).
    """
    path = Path(name_or_path)
    if not path.is_file():
        path = ROOT / "workflows" / f"{name_or_path}.json"
    if not path.is_file():
        names = ", ".join(p.stem for p in sorted((ROOT / "workflows").glob("*.json")))
        raise RunError(f"workflow {str(name_or_path)!r} not found: give a path or one of {names}")
    return path


def load_workflow(name_or_path: str | os.PathLike) -> Workflow:
    """Read and check a workflow file without ComfyUI: JSON, nesting depth, UI or API structure.

    Raises:
        RunError naming the file: missing, not UTF-8 JSON, nested deeper than :data:`MAX_JSON_DEPTH`,
            or neither a UI workflow nor an API prompt.
    """
    path = find_workflow(name_or_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise RunError(f"{path}: JSON nested too deeply to be a ComfyUI workflow") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"{path} is not JSON: {error}") from None
    except OSError as error:
        raise RunError(f"{path}: cannot be read ({error.strerror})") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise RunError(f"{path}: JSON nested deeper than {MAX_JSON_DEPTH} levels: not a ComfyUI workflow")
    problem = _ui_problem(data)
    if problem is None:
        return Workflow(path, data, api=False)
    api_problem = _api_problem(data)
    if api_problem is None:
        return Workflow(path, data, api=True)
    if isinstance(data, dict) and "nodes" in data:
        raise RunError(f"{path}: not a ComfyUI workflow: {problem}")
    if (
        isinstance(data, dict)
        and data
        and all(isinstance(v, dict) and "class_type" in v for v in data.values())
    ):
        raise RunError(f"{path}: not a ComfyUI API prompt: {api_problem}")
    raise RunError(
        f"{path}: not a ComfyUI workflow: expected a UI workflow (an object with 'nodes' and 'links' "
        'lists) or an API prompt ({"1": {"class_type": ..., "inputs": {...}}})'
    )


def json_depth(value) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), counted without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _ui_problem(data) -> str | None:
    """What makes ``data`` not a UI workflow (None if it is one)."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        return "expected a JSON object with 'nodes' and 'links' lists"
    if not isinstance(data.get("links"), list):
        return "'links' must be a list"
    for i, node in enumerate(data["nodes"]):
        if not isinstance(node, dict) or not isinstance(node.get("type"), str) or "id" not in node:
            return f"nodes[{i}] must be an object with an 'id' and a 'type'"
        if not isinstance(node.get("widgets_values") or [], list):
            return f"nodes[{i}] ({node['type']}): 'widgets_values' must be a list"
    for i, link in enumerate(data["links"]):
        if not isinstance(link, list) or len(link) < 5:
            return f"links[{i}] must be [id, from_node, from_slot, to_node, to_slot, type]"
    return None


def _api_problem(data) -> str | None:
    """What makes ``data`` not an API prompt (None if it is one)."""
    if not isinstance(data, dict) or not data:
        return "expected a non-empty JSON object of nodes"
    for node_id, node in data.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            return f"node {node_id!r} must be an object with a 'class_type'"
        if not isinstance(node.get("inputs", {}), dict):
            return f"node {node_id!r} ({node['class_type']}): 'inputs' must be an object"
        for name, value in node.get("inputs", {}).items():
            is_link = isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)
            if is_link and str(value[0]) not in data:
                return f"node {node_id!r} ({node['class_type']}): input {name!r} links to missing node {value[0]!r}"
    return None


def read_photo(path: str | os.PathLike | None) -> intake.Photo:
    """Decode the photo as ComfyUI's LoadImage does (``intake.decode``); None = scikit-image's camera.png.

    Raises:
        intake.PhotoError: one line naming the file and the cause.
    """
    if path is None:
        import skimage

        path = Path(skimage.data.__file__).parent / "camera.png"
    return intake.decode(Path(path).resolve())


def check_people(photo: intake.Photo, workflow: Workflow) -> None:
    """For a workflow that detects a pose, check with the pack's MediaPipe detector (no ComfyUI) that
    the photo shows a person.

    Raises:
        RunError: "No person detected in PATH".
    """
    if "PoseDetectMediaPipe" not in workflow.class_types():
        return
    import pack

    pack.load()
    if not intake.has_person(photo):
        raise RunError(f"No person detected in {photo.path}")


# --- in ComfyUI ---------------------------------------------------------------------------------------


def boot(work: Path, out: Path):
    """Start ComfyUI in this process (once) with this pack, ``work`` for its folders, ``out`` for outputs."""
    import comfy_host

    return comfy_host.boot(work, harness_nodes=False, output_dir=out)


def register_model_path(value: str | None, folder: str) -> str | None:
    """In-process only: a model given as a file path is registered as an extra ComfyUI ``folder`` (e.g.
    ``checkpoints``); returns its name there (``value`` itself when it is not a file)."""
    if value is None or not Path(value).is_file():
        return value
    import folder_paths

    path = Path(value).resolve()
    folder_paths.add_model_folder_path(folder, str(path.parent))
    return path.name


def _resolve_model(value: str | None, folder: str) -> str | None:
    """In-process: ``value`` as a name in ComfyUI's ``folder`` (a path is registered there).

    Raises:
        RunError: ``value`` was given and is neither a file nor a name in ``folder``.
    """
    import folder_paths

    name = register_model_path(value, folder)
    if name is not None and folder_paths.get_full_path(folder, name) is None:
        raise RunError(
            f"{folder[:-1] if folder.endswith('s') else folder} {value!r} not found: give a path, "
            f"or put it in one of {folder_paths.get_folder_paths(folder)}"
        )
    return name


def local_input_spec(class_type: str) -> dict:
    """:func:`build_prompt`'s ``input_spec`` for this process's ComfyUI (booted): the node's INPUT_TYPES."""
    import nodes

    return nodes.NODE_CLASS_MAPPINGS[class_type].INPUT_TYPES()


def server_input_spec(object_info: dict):
    """:func:`build_prompt`'s ``input_spec`` for a server: its ``GET /object_info`` answer."""
    return lambda class_type: object_info[class_type]["input"]


def _options(input_spec, class_type: str, name: str) -> list[str]:
    """The choices of combo input ``name`` of ``class_type`` (legacy ``[[...], {}]`` or
    ``["COMBO", {"options": [...]}]``)."""
    entry = input_spec(class_type)["required"][name]
    return list(entry[0] if isinstance(entry[0], list) else entry[1]["options"])


def _widget(prompt: dict, class_type: str, name: str, default: str) -> str:
    """The value of input ``name`` of the first ``class_type`` node in ``prompt`` (``default`` if none)."""
    return next((n["inputs"][name] for n in prompt.values() if n["class_type"] == class_type), default)


def _relink_to_demo(inputs: dict, loaders: list[str], encoders: set[str], controls: set[str]) -> None:
    """Point one node's links at the demo loader: text conditionings become its empty CONDITIONING
    (slot 2), its MODEL stays slot 0 and its VAE moves from slot 2 to 1; ControlNet links are dropped."""
    for name, value in list(inputs.items()):
        if not isinstance(value, list):
            continue
        if value[0] in encoders:
            inputs[name] = [loaders[0], 2]
        elif value[0] in loaders:
            inputs[name] = [value[0], {0: 0, 2: 1}[value[1]]]
        elif value[0] in controls:
            del inputs[name]


def _demo_settings(class_type: str, inputs: dict, tile: int) -> None:
    """Demo-model settings of one node: Outpaint (Tiled) without per-tile prompts or ControlNet, tiles of
    the model's size; Pose Pad to half a tile; :data:`DEMO_SAMPLING` where a node has those widgets and
    :data:`DEMO_SCHEDULE_STEPS` on schedulers."""
    if class_type == "OutpaintTiled":  # no CLIP and no ControlNet in demo mode
        for name in ("clip", "tile_prompt", "caption_model", "control_image", "control_strength"):
            inputs.pop(name, None)
        for name in ("control_start", "control_end"):
            inputs.pop(name, None)
        inputs.update(tile_width=tile, tile_height=tile, overlap=max(8, tile // 4), feather=max(0, tile // 8))
    if class_type == "PosePadImageMaskPose":
        inputs["multiple"] = tile // 2
    for name, value in DEMO_SAMPLING.items():
        if name in inputs and not isinstance(inputs[name], list):
            inputs[name] = value
    if class_type in DEMO_SCHEDULE_STEPS:
        inputs["steps"] = DEMO_SCHEDULE_STEPS[class_type]


def use_demo_model(prompt: dict, ckpt_name: str, tile: int) -> dict:
    """Rewrite an API graph that loads a Stable Diffusion checkpoint to run on a pixel-space demo model:
    CheckpointLoaderSimple becomes Load ADM Pixel Model (MODEL, identity VAE, empty CONDITIONING), text
    prompts become that empty conditioning, Outpaint (Tiled)'s per-tile prompts and ControlNets are dropped,
    tiles take the model's size. Returns a new prompt (``prompt`` is not modified)."""
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
        _demo_settings(node["class_type"], node["inputs"], tile)  # first: drops the CLIP link
        _relink_to_demo(node["inputs"], loaders, encoders, controls)
    return prompt


def to_prompt(workflow: Workflow, object_info: dict | None = None) -> dict:
    """The API prompt of a workflow (a copy). A UI workflow is converted with this process's nodes
    (ComfyUI booted) or with a server's ``GET /object_info`` answer ``object_info``.

    Raises:
        RunError: a UI workflow that does not fit the nodes (``workflow_format.WorkflowError``).
    """
    import workflow_format

    if workflow.api:
        return json.loads(json.dumps(workflow.data))
    try:
        return workflow_format.ui_to_api(workflow.data, object_info)
    except workflow_format.WorkflowError as error:
        raise RunError(f"{workflow.path}: {error}") from None


def choose_models(
    prompt: dict, options: Options, input_spec, where: str = "ComfyUI"
) -> tuple[dict, dict | str, str | None]:
    """Point the prompt's loaders at the models the host offers (``options`` first, then the names the
    workflow gives); with no Stable Diffusion checkpoint, switch to the demo model (:func:`use_demo_model`).

    Args:
        prompt: an API prompt (not modified).
        options: ``checkpoint`` / ``controlnet`` are names on the host (in-process, register a path first
            with :func:`register_model_path`).
        input_spec: ``class_type -> INPUT_TYPES()`` of the host: :func:`local_input_spec` in-process,
            :func:`server_input_spec` for a server; the combo lists there are the models it has.
        where: the host's name in error messages.

    Returns:
        ``(prompt, models, note)``: ``models`` names the files used, or is a sentence for the demo model;
        ``note`` says what was substituted (None if nothing).
    Raises:
        RunError: a model named in ``options`` or a ControlNet the workflow needs is not on the host.
    """
    import graphs

    prompt = json.loads(json.dumps(prompt))
    models: dict | str = {}
    note = None
    if any(n["class_type"] == "CheckpointLoaderSimple" for n in prompt.values()):
        wanted = _widget(prompt, "CheckpointLoaderSimple", "ckpt_name", graphs.DEFAULT_CHECKPOINT)
        offered = _options(input_spec, "CheckpointLoaderSimple", "ckpt_name")
        if options.checkpoint is not None and options.checkpoint not in offered:
            raise RunError(
                f"checkpoint {options.checkpoint!r} not found on {where}: give a path (in-process), or put "
                "it in ComfyUI/models/checkpoints/"
            )
        checkpoint = options.checkpoint or (wanted if wanted in offered else None)
        if checkpoint is None:
            demos = _options(input_spec, "LoadADMPixelModel", "ckpt_name")
            demo, tile = next((name, size) for name, size in DEMO_MODELS if name in demos)
            note = (
                f"NOTE: no Stable Diffusion checkpoint found on {where} ({wanted} or --checkpoint): running "
                f"on the embedded pixel-space demo model {demo!r}, tiles of {tile} px, without ControlNet."
            )
            prompt = use_demo_model(prompt, demo, tile)
            models = f"demo: {demo} (no Stable Diffusion checkpoint found; ControlNet skipped)"
        else:
            models["checkpoint"] = checkpoint
            for node in prompt.values():
                if node["class_type"] == "CheckpointLoaderSimple":
                    node["inputs"]["ckpt_name"] = checkpoint
    for node in prompt.values():
        if node["class_type"] == "ControlNetLoader":
            name = options.controlnet or node["inputs"]["control_net_name"]
            if name not in _options(input_spec, "ControlNetLoader", "control_net_name"):
                raise RunError(
                    f"ControlNet {name!r} not found on {where}: put it in ComfyUI/models/controlnet/ or "
                    "pass --controlnet PATH (in-process)"
                )
            node["inputs"]["control_net_name"] = models["controlnet"] = name
    return prompt, models, note


def build_prompt(
    prompt: dict, input_spec, options: Options = Options(), where: str = "ComfyUI"
) -> tuple[dict, dict | str, str | None]:
    """The API prompt every photo runs (:func:`photo_prompt` then sets the photo and its seed): models
    chosen (:func:`choose_models`), ``options.steps`` set wherever a node has ``steps``.

    One function for both paths: in-process ``input_spec`` reads this process's nodes, with servers it
    reads ``GET /object_info``, so both send the same prompt. Returns ``(prompt, models, note)``.

    Raises:
        RunError: see :func:`choose_models`.
    """
    prompt, models, note = choose_models(prompt, options, input_spec, where)
    if options.steps is not None:
        for node in prompt.values():
            if "steps" in node["inputs"]:
                node["inputs"]["steps"] = options.steps
    return prompt, models, note


def local_template(workflow: Workflow, options: Options = Options()) -> tuple[dict, dict | str]:
    """In-process (ComfyUI booted): :func:`build_prompt` on this process's nodes, with model paths in
    ``options`` registered (:func:`_resolve_model`); prints the demo-model note. Returns ``(prompt, models)``.

    Raises:
        RunError: a model is missing, or the workflow does not fit the nodes.
    """
    local = dataclasses.replace(
        options,
        checkpoint=_resolve_model(options.checkpoint, "checkpoints"),
        controlnet=_resolve_model(options.controlnet, "controlnet"),
    )
    prompt, models, note = build_prompt(to_prompt(workflow), local_input_spec, local)
    if note:
        print(note)
    return prompt, models


def photo_seed(seed: int, photo_name: str) -> int:
    """A photo's seed: ``seed`` plus the CRC-32 of its file name (e.g. ``IMG_0001.jpg``), modulo 2^64, so
    that a photo keeps its seed whatever else is in the batch."""
    return (int(seed) + zlib.crc32(photo_name.encode())) % 2**64


def photo_prompt(prompt: dict, image_name: str, photo_name: str, seed: int | None = None) -> dict:
    """``prompt`` (a copy) for one photo: every LoadImage reads ``image_name``; every ``seed`` input becomes
    ``photo_seed(seed or the input's own value, photo_name)``."""
    prompt = json.loads(json.dumps(prompt))
    for node in prompt.values():
        inputs = node["inputs"]
        if node["class_type"] == "LoadImage":
            inputs["image"] = image_name
        if "seed" in inputs and not isinstance(inputs["seed"], list):
            inputs["seed"] = photo_seed(inputs["seed"] if seed is None else seed, photo_name)
    return prompt


def prompt_seed(prompt: dict) -> int | None:
    """The first ``seed`` input's value in ``prompt`` (None if it has none)."""
    return next(
        (n["inputs"]["seed"] for n in prompt.values() if isinstance(n["inputs"].get("seed"), int)), None
    )


def photo_png(photo: intake.Photo) -> tuple[str, bytes]:
    """The lossless PNG that LoadImage reads (``photo.to_pil()``: ``photo.rgb`` and its alpha) and its name,
    from the content (the same on every host, so in-process and server runs send the same prompt)."""
    buffer = io.BytesIO()
    photo.to_pil().save(buffer, format="PNG")
    data = buffer.getvalue()
    return f"{TEMP_PREFIX}{hashlib.sha256(data).hexdigest()[:16]}.png", data


def run_one(
    workflow: Workflow,
    photo: intake.Photo,
    out: str | os.PathLike,
    options: Options = Options(),
    template: tuple[dict, dict | str] | None = None,
) -> dict:
    """Run ``workflow`` on ``photo`` in the booted ComfyUI; write its images and report.json to ``out``.

    The decoded photo (in demo mode its working copy, :func:`demo_working_photo`) goes to ComfyUI's input
    folder as a lossless PNG (:func:`photo_png`, removed afterwards), so LoadImage gives the graph exactly
    ``photo.rgb`` (and ``1 - alpha / 255`` as its mask). SaveImage writes to ``out`` for this run only.

    Args:
        template: ``(prompt, models)`` of :func:`local_template`, built once for a batch (None: build it).

    Returns:
        the report (:func:`make_report`, with ``seed``).
    Raises:
        RunError: a model is missing, or the graph failed (one line: the node and the cause).
    """
    import comfy_host
    import folder_paths

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    template_prompt, models = template or local_template(workflow, options)
    original = photo
    if isinstance(models, str):  # demo mode
        photo = demo_working_photo(photo)
    image_name, data = photo_png(photo)
    prompt = photo_prompt(template_prompt, image_name, original.path.name, options.seed)
    staged = Path(folder_paths.get_input_directory()) / image_name
    previous_output = folder_paths.get_output_directory()
    try:
        staged.write_bytes(data)
        folder_paths.set_output_directory(str(out))
        started = time.perf_counter()
        try:
            result = comfy_host.run_graph(prompt)
        except comfy_host.GraphError as error:
            raise RunError(
                f"{workflow.path.name} failed on {photo.path}: {graph_error_line(error)}"
            ) from None
        seconds = time.perf_counter() - started
    finally:
        folder_paths.set_output_directory(previous_output)
        staged.unlink(missing_ok=True)
    report = make_report(prompt, result, out, photo, seconds, models)
    report["input_size"] = list(original.size)  # the file's own size; working_size is what was sampled
    report["seed"] = prompt_seed(prompt)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def demo_working_photo(photo: intake.Photo) -> intake.Photo:
    """``photo``, or in demo mode a copy scaled (Lanczos) to at most :data:`DEMO_MAX_SIDE` px on its longer
    side, with a printed note; the report then compares known pixels against this working copy and gives
    its size as ``working_size``."""
    width, height = photo.size
    if max(width, height) <= DEMO_MAX_SIDE:
        return photo
    scale = DEMO_MAX_SIDE / max(width, height)
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    print(
        f"NOTE: demo mode works at most {DEMO_MAX_SIDE} px on a side: the photo ({width}x{height}) is "
        f"scaled to {size[0]}x{size[1]} first; known pixels are those of the scaled copy."
    )
    rgb = np.asarray(Image.fromarray(photo.rgb).resize(size, Image.LANCZOS))
    alpha = (
        None if photo.alpha is None else np.asarray(Image.fromarray(photo.alpha).resize(size, Image.LANCZOS))
    )
    return dataclasses.replace(photo, rgb=rgb, alpha=alpha)


def graph_error_line(error) -> str:
    """One line from a ``comfy_host.GraphError``: the failing node, its type and the cause."""
    details = error.details
    where, text = "graph", str(error)
    if isinstance(details, list) and details and isinstance(details[0], dict):
        where = f"node {details[0].get('node_id')} ({details[0].get('node_type')})"
        text = details[0].get("exception_message", text)
    elif isinstance(details, dict) and details:
        node_id, entry = next(iter(details.items()))
        first = (entry.get("errors") or [{}])[0]
        where = f"node {node_id} ({entry.get('class_type')})"
        text = f"{first.get('message', '')}: {first.get('details', '')}"
    line = " ".join(f"{where}: {text}".split())
    return line if len(line) <= 300 else line[:297] + "..."


# --- the report ---------------------------------------------------------------------------------------


def make_report(prompt: dict, result, out: Path, photo: intake.Photo, seconds: float, models) -> dict:
    """report.json's fields: ``output_image`` (the first SaveImage's), ``saved``, ``input_image``,
    ``input_size`` (the decoded file's [W, H], after EXIF orientation), ``padding`` ([left, top, right,
    bottom] px: input pixel (x, y) is output pixel (x + left, y + top); None for a workflow without
    Pose Pad Image/Mask/Pose), ``output_size``, ``tiles``, ``nfe``, ``seconds``, ``known_max_abs_diff``
    (see :func:`known_pixels`) and ``models``."""
    saved = [
        out / image.get("subfolder", "") / image["filename"]
        for ui in result.ui.values()
        for image in ui.get("images", [])
    ]
    main_output = saved[0]
    for node_id, node in prompt.items():
        if node["class_type"] == "SaveImage" and result.ui.get(node_id, {}).get("images"):
            image = result.ui[node_id]["images"][0]
            main_output = out / image.get("subfolder", "") / image["filename"]
            break
    tiles = nfe = 0
    for node_id, node in prompt.items():
        if node["class_type"] == "OutpaintTiled":
            tiles, nfe = result.output(node_id, 1), result.output(node_id, 2)
        elif node["class_type"] == "KSamplerRePaint":
            nfe = max((total for _, total, _ in result.progress), default=0)
    produced = np.asarray(Image.open(main_output).convert("RGB"))
    padding, diff = known_pixels(prompt, result, produced, photo)
    return {
        "output_image": str(main_output),
        "saved": [str(p) for p in saved],
        "input_image": str(photo.path),
        "input_size": list(photo.size),
        "working_size": list(photo.size),
        "padding": padding,
        "output_size": [int(produced.shape[1]), int(produced.shape[0])],
        "tiles": int(tiles),
        "nfe": int(nfe),
        "seconds": round(seconds, 2),
        "known_max_abs_diff": diff,
        "models": models,
    }


def known_pixels(prompt: dict, result, produced: np.ndarray, photo: intake.Photo):
    """``(padding, max |Δ|)`` of the known pixels of the output ``produced`` (uint8 ``[H, W, 3]``).

    With a Pose Pad Image/Mask/Pose fed by LoadImage (extend_legs): ``padding`` is its four pads and
    max |Δ| is taken against the decoded file (``photo.rgb``) over the whole original area at offset
    (left, top). Otherwise ``padding`` is None and the known pixels are those the workflow's mask
    keeps, compared with the image it encodes (repaint_pixel_demo scales the photo first). max |Δ| is
    None where the output has another size.
    """
    pad_id = next(
        (
            k
            for k, n in prompt.items()
            if n["class_type"] == "PosePadImageMaskPose"
            and prompt[str(n["inputs"]["image"][0])]["class_type"] == "LoadImage"
        ),
        None,
    )
    if pad_id is not None:
        left, top, right, bottom = (int(result.output(pad_id, k)) for k in range(3, 7))
        width, height = photo.size
        if produced.shape[:2] != (height + top + bottom, width + left + right):
            return [left, top, right, bottom], None
        region = produced[top : top + height, left : left + width].astype(int)
        return [left, top, right, bottom], int(np.abs(region - photo.rgb.astype(int)).max())
    reference, mask = _known_reference(prompt, result)
    if reference is None or reference.shape[:2] != produced.shape[:2] or not (mask == 0).any():
        return None, None
    return None, int(np.abs(produced.astype(int) - reference)[mask == 0].max())


def _known_reference(prompt, result):
    """The image a workflow without Pose Pad keeps known pixels of (8-bit values) and its mask (0 = known)."""
    reference = mask = None
    for node_id, node in prompt.items():
        if node["class_type"] == "OutpaintComposite":
            inputs = node["inputs"]
            return _uint8(result.output(*inputs["original"])), result.output(*inputs["mask"])[0].numpy()
        if node["class_type"] == "VAEEncode":
            reference = _uint8(result.output(*node["inputs"]["pixels"]))
        elif node["class_type"] == "RePaintMask":
            mask = result.output(node_id)[0].numpy()
    return (reference, mask) if reference is not None and mask is not None else (None, None)


def _uint8(image) -> np.ndarray:
    """8-bit values the way SaveImage writes them (``clip(255 * x).astype(uint8)``: truncation)."""
    return np.clip(255.0 * image[0].cpu().numpy(), 0, 255).astype(np.uint8).astype(int)


# --- the command --------------------------------------------------------------------------------------


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


def options_of(args: argparse.Namespace) -> Options:
    """The :class:`Options` of the command line."""
    return Options(checkpoint=args.checkpoint, controlnet=args.controlnet, seed=args.seed, steps=args.steps)


def summary_line(report: dict) -> str:
    """One photo's result in one line: sizes, padding, tiles, NFE, seconds, known pixels' max |diff|."""
    return (
        f"{Path(report['output_image']).name}: {report['input_size']} -> {report['output_size']} px "
        f"(padding {report['padding']}), {report['tiles']} tiles, {report['nfe']} model calls, "
        f"{report['seconds']:.1f} s; known pixels max |diff| = {report['known_max_abs_diff']}"
    )


def main(argv=None) -> int:
    """Check the workflow and the photos (bad ones fail before ComfyUI starts), then run them in this
    process (a temporary ComfyUI folder, removed however the run ends, Ctrl-C and SIGTERM included) or on
    ``--server``s (``batch_runner.run_batch``). Returns the exit status."""
    args = parse_args(argv)
    if __name__ == "__main__":  # `kill` cleans up as Ctrl-C does
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    import batch_runner

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
