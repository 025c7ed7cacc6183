"""One photo through one workflow in this process's ComfyUI: the photo decoded, the person check, the
boot, the run and its report."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from . import intake
from .demo import demo_working_photo
from .prompts import local_template, photo_png, photo_prompt, prompt_seed
from .report import graph_error_line, make_report
from .workflow import DEFAULT_OPTIONS, Options, RunError, Workflow


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
    if not intake.has_person(photo):
        raise RunError(f"No person detected in {photo.path}")


def boot(work: Path, out: Path):
    """Start ComfyUI in this process (once) with this pack, ``work`` for its folders, ``out`` for outputs."""
    from . import host as comfy_host

    return comfy_host.boot(work, output_dir=out)


def run_one(
    workflow: Workflow,
    photo: intake.Photo,
    out: str | os.PathLike,
    options: Options = DEFAULT_OPTIONS,
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
    import folder_paths

    from . import host as comfy_host

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
