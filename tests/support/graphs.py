"""The runner's graph builders (:mod:`runner.graphs`) on the tests' stand-in models: the shipped graphs are
built with real model names, then their loaders are swapped for the stand-ins of ``support.tiny_models``
(same outputs, same node ids), so the tests run exactly the graphs users get."""

from __future__ import annotations

import functools

from runner import graphs as _shipped
from runner.graphs import *  # noqa: F403  (the pieces: detect_complete_pad, outpaint_tiled, ...)
from runner.graphs import DEFAULT_CHECKPOINT, DEFAULT_OPENPOSE, _builder  # noqa: F401


def family_input(family: str) -> dict:
    """The stand-in loaders' optional ``family`` input: left out for the default "sd15", so that graphs
    built before SDXL stand-ins existed stay identical."""
    return {} if family == "sd15" else {"family": family}


def stand_ins(
    prompt: dict,
    *,
    kind: str = "eps",
    size: str = "tiny",
    family: str = "sd15",
    checkpoint=True,
    controlnet=True,
) -> dict:
    """``prompt`` with its CheckpointLoaderSimple nodes (when ``checkpoint``) replaced by the tiny stand-in
    of ``kind`` / ``family`` and its ControlNetLoader nodes (when ``controlnet``) by the tiny ControlNet;
    in place, and returned."""
    for node in prompt.values():
        if checkpoint and node["class_type"] == "CheckpointLoaderSimple":
            node["class_type"] = "TinyCheckpointLoader"
            node["inputs"] = {"kind": kind, "size": size, "seed": 0, **family_input(family)}
        elif controlnet and node["class_type"] == "ControlNetLoader":
            node["class_type"] = "TinyControlNetLoader"
            node["inputs"] = {"size": size, "seed": 3, **family_input(family)}
    return prompt


@functools.wraps(_shipped.repaint_inpaint)
def repaint_inpaint(*, ckpt_name=None, kind="eps", size="tiny", family="sd15", **kwargs):
    """:func:`runner.graphs.repaint_inpaint`; ``ckpt_name`` None: the stand-in of ``kind`` and ``family``."""
    prompt, ids = _shipped.repaint_inpaint(ckpt_name=ckpt_name or DEFAULT_CHECKPOINT, kind=kind, **kwargs)
    return (stand_ins(prompt, kind=kind, size=size, family=family) if ckpt_name is None else prompt), ids


@functools.wraps(_shipped.extend_legs)
def extend_legs(
    *,
    ckpt_name=DEFAULT_CHECKPOINT,
    controlnet_name=DEFAULT_OPENPOSE,
    kind="eps",
    size="tiny",
    family="sd15",
    **kwargs,
):
    """:func:`runner.graphs.extend_legs`; ``ckpt_name`` / ``controlnet_name`` None: the stand-ins of
    ``kind`` and ``family``."""
    prompt, ids = _shipped.extend_legs(
        ckpt_name=ckpt_name or DEFAULT_CHECKPOINT,
        controlnet_name=controlnet_name or DEFAULT_OPENPOSE,
        **kwargs,
    )
    stand_ins(
        prompt,
        kind=kind,
        size=size,
        family=family,
        checkpoint=ckpt_name is None,
        controlnet=controlnet_name is None,
    )
    return prompt, ids


def pose_control(g, positive, negative, *, family: str = "sd15", strength: float = 1.0, inpaint=None):
    """Add the tiny stand-in ControlNet of ``family``, a magenta 64x64 stand-in pose hint and the pack's
    ``PoseControlNetApply`` (whole schedule) on ``positive`` / ``negative``; ``inpaint`` = (image, mask)
    outputs also chains the same ControlNet as the inpaint ControlNet at ``strength``. Returns the
    PoseControlNetApply node (outputs: positive, negative)."""
    net = g.node("TinyControlNetLoader", size="tiny", seed=3, **family_input(family))
    hint = g.node("EmptyImage", width=64, height=64, batch_size=1, color=0xFF00FF)
    extra = {}
    if inpaint is not None:
        image, mask = inpaint
        extra = dict(inpaint_control_net=net.out(0), image=image, mask=mask, inpaint_strength=strength)
    return g.node(
        "PoseControlNetApply",
        positive=positive,
        negative=negative,
        control_net=net.out(0),
        pose_image=hint.out(0),
        strength=strength,
        start_percent=0.0,
        end_percent=1.0,
        **extra,
    )
