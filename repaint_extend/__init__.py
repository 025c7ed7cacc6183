"""comfyui-repaint-extend: RePaint resampling, OpenPose with feet, pose-conditioned inpainting and
tiled outpainting for ComfyUI.

ComfyUI imports this folder as a package from ``custom_nodes/<any name>`` and calls
:func:`comfy_entrypoint`. Nothing here imports ComfyUI at import time, so the host-independent core
packages (``samplers``, ...) can be imported by scripts and tests without a running host.
"""

__all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]

WEB_DIRECTORY = "./web"
"""The front end (the pose editor widget), served by ComfyUI; every ``.js`` in it is loaded as an extension."""


async def comfy_entrypoint():
    """V3 entry point: return the pack's :class:`comfy_api.latest.ComfyExtension`."""
    from .nodes import RePaintExtendExtension

    return RePaintExtendExtension()
