"""ComfyUI glue for Pose ControlNet Apply: checks and the chaining of an OpenPose ControlNet with an
optional inpaint ControlNet, through ComfyUI's own ControlNetApplyAdvanced (``set_cond_hint``).

The inpaint hint itself is ``outpaint.inpaint_control_hint`` (host-independent).
"""

from __future__ import annotations

import nodes as comfy_nodes

from ..outpaint import inpaint_control_hint


def check_same_canvas(a, b, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` naming both inputs unless the IMAGEs ``a`` and ``b`` ([B, H, W, C]) have the
    same height and width."""
    if tuple(a.shape[1:3]) != tuple(b.shape[1:3]):
        raise ValueError(
            f"{name_a} is {a.shape[2]}x{a.shape[1]} but {name_b} is {b.shape[2]}x{b.shape[1]}: render the pose on "
            "the same canvas as the image (pad image, mask and pose together with Pose Pad Image/Mask/Pose)"
        )


def apply_pose_controlnets(
    positive,
    negative,
    control_net,
    pose_image,
    strength: float,
    start_percent: float,
    end_percent: float,
    inpaint_control_net=None,
    image=None,
    mask=None,
    inpaint_strength: float = 1.0,
    vae=None,
) -> tuple[list, list]:
    """Apply ``control_net`` with the pose hint ``pose_image`` ([B, H, W, 3] in [0, 1]) at ``strength`` over
    ``[start_percent, end_percent]`` of sampling, then, if given, ``inpaint_control_net`` on top of it
    (chained: its ``previous_controlnet`` is the pose ControlNet) with the hint of ``image`` whose masked
    pixels (``mask`` 1 = generate) are -1, at ``inpaint_strength`` over the same range. ``vae`` goes to
    ControlNets that take latent hints. Strength 0 leaves that ControlNet out (as ComfyUI does).

    Returns:
        New ``(positive, negative)`` CONDITIONING lists; the inputs are not modified.

    Raises:
        ValueError, before anything is applied: ``start_percent > end_percent``; ``image`` not on the
        pose's canvas; ``inpaint_control_net`` without ``image`` and ``mask``.
    """
    if start_percent > end_percent:
        raise ValueError(f"start_percent ({start_percent}) must not exceed end_percent ({end_percent})")
    if image is not None:
        check_same_canvas(pose_image, image, "pose_image", "image")
    if inpaint_control_net is not None and (image is None or mask is None):
        raise ValueError(
            "inpaint_control_net needs image and mask: connect the image to inpaint and its mask"
        )
    window = (start_percent, end_percent)
    apply = comfy_nodes.ControlNetApplyAdvanced().apply_controlnet
    positive, negative = apply(positive, negative, control_net, pose_image, strength, *window, vae=vae)
    if inpaint_control_net is not None:
        hint = inpaint_control_hint(image, mask)
        positive, negative = apply(
            positive, negative, inpaint_control_net, hint, inpaint_strength, *window, vae=vae
        )
    return positive, negative
