"""One photo through one workflow in this process's ComfyUI: the photo decoded, the person check, the
boot, the run and its report."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from . import intake, stop
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


def check_people(photo: intake.Photo, workflow: Workflow, max_people: int | None = None) -> None:
    """For a workflow that detects a pose, check with the pack's MediaPipe detector (no ComfyUI), with the
    workflow's Pose Detect settings (``max_people`` overrides its own), that the photo shows a person.

    Raises:
        RunError: "No person detected in PATH".
    """
    wanted = workflow.max_people()
    if wanted is None or "PoseDetectMediaPipe" not in workflow.class_types():
        return
    if not intake.has_person(photo, max_people or wanted):
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
    ``photo.rgb`` (and ``1 - alpha / 255`` as its mask). SaveImage writes to a staging folder inside
    ``out``, whose files move to ``out`` (:func:`place_output`) only when the run succeeds: a failed or
    interrupted run leaves nothing behind.

    Args:
        template: ``(prompt, models)`` of :func:`local_template`, built once for a batch (None: build it).

    Returns:
        the report (:func:`make_report`, with ``seed``).
    Raises:
        RunError: a model is missing, or the graph failed (one line: the node and the cause).
        stop.Stopped: a signal interrupted the graph (:mod:`runner.stop`).
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
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=out))
    previous_output = folder_paths.get_output_directory()
    try:
        staged.write_bytes(data)
        folder_paths.set_output_directory(str(partial))
        started = time.perf_counter()
        try:
            with stop.in_graph():
                result = comfy_host.run_graph(prompt)
        except comfy_host.GraphError as error:
            raise RunError(
                f"{workflow.path.name} failed on {photo.path}: {graph_error_line(error)}"
            ) from None
        seconds = time.perf_counter() - started
        report = make_report(prompt, result, partial, photo, seconds, models)
        moved = {name: str(place_output(Path(name), out)) for name in report["saved"]}
    finally:
        folder_paths.set_output_directory(previous_output)
        staged.unlink(missing_ok=True)
        shutil.rmtree(partial, ignore_errors=True)
    report.update(output_image=moved[report["output_image"]], saved=[moved[n] for n in report["saved"]])
    report["input_size"] = list(original.size)  # the file's own size; working_size is what was sampled
    report["seed"] = prompt_seed(prompt)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


_COUNTER = re.compile(r"^(?P<prefix>.*)_(?P<counter>\d{5})_(?P<suffix>\.[^.]+)$")
"""SaveImage's file names: ``<prefix>_<counter, 5 digits>_.png``."""


def place_output(source: Path, folder: Path) -> Path:
    """Move ``source`` into ``folder`` under its name, or, when that name is taken, under the next free
    SaveImage counter of its prefix (``legs_00001_.png`` -> ``legs_00002_.png``); never replaces a file.
    Returns the new path."""
    target = folder / source.name
    match = _COUNTER.match(source.name)
    counter = int(match["counter"]) if match else 0
    while target.exists():
        counter += 1
        stem = (
            f"{match['prefix']}_{counter:05}_{match['suffix']}"
            if match
            else f"{source.stem}_{counter}{source.suffix}"
        )
        target = folder / stem
    shutil.move(str(source), target)
    return target
