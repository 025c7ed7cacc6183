"""The API prompt each photo runs: models chosen on the host (or demo mode), ``--steps``, the photo and
its seed. One code path for in-process and server runs, so both send the same prompt."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zlib
from pathlib import Path

from . import intake
from .demo import DEMO_MODELS, use_demo_model
from .workflow import DEFAULT_OPTIONS, Options, RunError, Workflow, to_prompt

TEMP_PREFIX = "run-workflow-"


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
    from . import graphs

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
    prompt: dict, input_spec, options: Options = DEFAULT_OPTIONS, where: str = "ComfyUI"
) -> tuple[dict, dict | str, str | None]:
    """The API prompt every photo runs (:func:`photo_prompt` then sets the photo and its seed): models
    chosen (:func:`choose_models`), ``options.steps`` set wherever a node has ``steps``, and
    ``options.max_people`` on Pose Detect (MediaPipe).

    One function for both paths: in-process ``input_spec`` reads this process's nodes, with servers it
    reads ``GET /object_info``, so both send the same prompt. Returns ``(prompt, models, note)``.

    Raises:
        RunError: see :func:`choose_models`.
    """
    prompt, models, note = choose_models(prompt, options, input_spec, where)
    for node in prompt.values():
        if options.steps is not None and "steps" in node["inputs"]:
            node["inputs"]["steps"] = options.steps
        if options.max_people is not None and node["class_type"] == "PoseDetectMediaPipe":
            node["inputs"]["max_people"] = options.max_people
    return prompt, models, note


def local_template(workflow: Workflow, options: Options = DEFAULT_OPTIONS) -> tuple[dict, dict | str]:
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
