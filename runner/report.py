"""report.json and the one-line summaries: saved images, padding, tiles, NFE, and the known pixels' max
|diff| against the decoded file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from . import intake

LEG_POINTS = ("right_knee", "right_ankle", "left_knee", "left_ankle")
"""The points that make a person's legs (COCO-18 names)."""


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line (whitespace runs become one space), cut to ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def node_errors_line(node_errors: dict) -> str:
    """ComfyUI's validation report (``node_errors``: ``{id: {"class_type", "errors": [{"message",
    "details"}]}}``) as one line: the first failing node, its type, the message and its details."""
    node_id, entry = next(iter(node_errors.items()))
    first = (entry.get("errors") or [{}])[0]
    details = f": {first['details']}" if first.get("details") else ""
    return one_line(f"node {node_id} ({entry.get('class_type')}): {first.get('message', 'invalid')}{details}")


def graph_error_line(error) -> str:
    """One line from a ``runner.host.GraphError``: the failing node, its type and the cause."""
    details = error.details
    if isinstance(details, list) and details and isinstance(details[0], dict):
        where = f"node {details[0].get('node_id')} ({details[0].get('node_type')})"
        return one_line(f"{where}: {details[0].get('exception_message', str(error))}")
    if isinstance(details, dict) and details:
        return node_errors_line(details)
    return one_line(f"graph: {error}")


def people_of(frames) -> list[str]:
    """For each person of a POSE_KEYPOINT's first frame, left to right: ``"detected"`` (knees and ankles
    found in the photo), ``"completed"`` (some inferred: ``inferred_keypoints``), ``"partly missing"`` or
    ``"missing"``."""
    from repaint_extend.pose.keypoints import KP

    legs = []
    indices = [KP[name] for name in LEG_POINTS]
    for person in (frames[0].get("people") or []) if frames else []:
        points = person.get("pose_keypoints_2d") or []
        inferred = set(person.get("inferred_keypoints") or [])
        present = [i for i in indices if len(points) >= 3 * i + 3 and points[3 * i + 2] > 0]
        if inferred & set(indices):
            legs.append("completed")
        elif len(present) == len(indices):
            legs.append("detected")
        else:
            legs.append("partly missing" if present else "missing")
    return legs


def pose_node(prompt: dict) -> str | None:
    """The node whose POSE_KEYPOINT the report describes: Pose Complete Legs, else Pose Detect."""
    for class_type in ("PoseCompleteLegs", "PoseDetectMediaPipe"):
        found = next((k for k, n in prompt.items() if n["class_type"] == class_type), None)
        if found is not None:
            return found
    return None


def make_report(prompt: dict, result, out: Path, photo: intake.Photo, seconds: float, models) -> dict:
    """report.json's fields: ``output_image`` (the first SaveImage's), ``saved``, ``input_image``,
    ``input_size`` (the decoded file's [W, H], after EXIF orientation), ``padding`` ([left, top, right,
    bottom] px: input pixel (x, y) is output pixel (x + left, y + top); None for a workflow without
    Pose Pad Image/Mask/Pose), ``output_size``, ``tiles``, ``nfe``, ``seconds``, ``known_max_abs_diff``
    (see :func:`known_pixels`), ``people`` (how many were posed; None without a pose) and ``legs`` (per
    person, :func:`people_of`) and ``models``."""
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
    pose = pose_node(prompt)
    legs = people_of(result.output(pose)) if pose is not None else None
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
        "people": None if legs is None else len(legs),
        "legs": legs,
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


def summary_line(report: dict) -> str:
    """One photo's result in one line: people posed, sizes, padding, windows, NFE, seconds, known
    pixels' max |diff|."""
    people = report.get("people")
    posed = "" if people is None else f"{people} {'person' if people == 1 else 'people'} posed, "
    return (
        f"{Path(report['output_image']).name}: {posed}{report['input_size']} -> {report['output_size']} px "
        f"(padding {report['padding']}), {report['tiles']} windows, {report['nfe']} model calls, "
        f"{report['seconds']:.1f} s; known pixels max |diff| = {report['known_max_abs_diff']}"
    )
